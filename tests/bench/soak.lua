-- wrk script for tests/bench/soak.sh.  Each thread rotates through a GET
-- and POSTs of 128 B, 4 KiB and 64 KiB of lowercase ASCII, checks every
-- response (status 200, and the body is the uppercase of a body sent, told
-- apart by its length), and stops after $SOAK_PER_THREAD responses, when it
-- also creates the file $SOAK_DONE_DIR/<thread number>: wrk itself runs
-- until its -d unless soak.sh, seeing every thread's file, sends it SIGINT.
-- done() prints one machine-readable line for soak.sh.
local per_thread = tonumber(os.getenv("SOAK_PER_THREAD") or "1000")
local sizes = { 0, 128, 4096, 65536 }
local done_dir = os.getenv("SOAK_DONE_DIR")
local threads = {}

local function text(n)
	local s = string.rep("the quick brown fox jumps over the lazy dog; ",
	    math.floor(n / 45) + 1)
	return string.sub(s, 1, n)
end

function setup(thread)
	table.insert(threads, thread)
	thread:set("id", #threads)
end

function init(args)
	bodies, uppers, requests = {}, {}, {}
	for i, n in ipairs(sizes) do
		bodies[i] = text(n)
		uppers[n] = string.upper(bodies[i])
		if n == 0 then
			requests[i] = wrk.format("GET", "/")
		else
			requests[i] = wrk.format("POST", "/", {
			    ["Content-Type"] = "application/octet-stream" },
			    bodies[i])
		end
	end
	next_request, responses, bad_status, bad_body = 0, 0, 0, 0
end

function request()
	next_request = next_request % #sizes + 1
	return requests[next_request]
end

function response(status, headers, body)
	responses = responses + 1
	if status ~= 200 then
		bad_status = bad_status + 1
	elseif uppers[#body] ~= body then
		bad_body = bad_body + 1
	end
	if responses == per_thread then
		if done_dir ~= nil then
			local f = io.open(done_dir .. "/" .. id, "w")
			if f ~= nil then f:close() end
		end
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local n, s, b = 0, 0, 0
	for _, t in ipairs(threads) do
		n = n + t:get("responses")
		s = s + t:get("bad_status")
		b = b + t:get("bad_body")
	end
	local e = summary.errors
	io.write(string.format("SOAK requests=%d responses=%d bad_status=%d " ..
	    "bad_body=%d non2xx=%d sockerr=%d duration_us=%d p99_us=%d\n",
	    summary.requests, n, s, b, e.status,
	    e.connect + e.read + e.write + e.timeout, summary.duration,
	    latency:percentile(99)))
end
