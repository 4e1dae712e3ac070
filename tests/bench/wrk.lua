-- wrk script for tests/bench/run.sh.  POST the contents of the file named
-- by $BENCH_BODY (a GET when it is unset or empty), and at the end print
-- one machine-readable line that run.sh parses instead of wrk's prose.
local path = os.getenv("BENCH_BODY")

if path ~= nil and path ~= "" then
	local f = assert(io.open(path, "rb"))
	wrk.method = "POST"
	wrk.body = f:read("*a")
	f:close()
	wrk.headers["Content-Type"] = "application/octet-stream"
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d " ..
	    "non2xx=%d sockerr=%d p50_us=%d p99_us=%d\n",
	    summary.requests, summary.duration, e.status,
	    e.connect + e.read + e.write + e.timeout,
	    latency:percentile(50), latency:percentile(99)))
end
