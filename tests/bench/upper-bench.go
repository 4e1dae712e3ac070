// Go's bytes.ToUpper on the texts of upper-bench (written by
// `upper-bench -w DIR`), for the comparison column of upper-bench.sh:
//
//	go run upper-bench.go DIR ROUNDS > results
//
// Prints "text size MB/s" lines.  Time is the process's CPU time (all
// threads, so the garbage collector's work counts), each sample a batch
// of about 5 ms; the figure is the median of ROUNDS samples.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) +
		float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

var sink int

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run upper-bench.go DIR ROUNDS")
		os.Exit(2)
	}
	rounds, err := strconv.Atoi(os.Args[2])
	if err != nil || rounds < 1 {
		rounds = 11
	}
	for _, size := range []int{4096, 65536, 1048576} {
		for t := 0; ; t++ {
			path := filepath.Join(os.Args[1], fmt.Sprintf("%d-%d.txt", t, size))
			in, err := os.ReadFile(path)
			if err != nil {
				break
			}
			start := cpuSeconds()
			reps := 1
			for {
				for i := 0; i < reps; i++ {
					sink += len(bytes.ToUpper(in))
				}
				if cpuSeconds()-start > 5e-3 {
					break
				}
				reps *= 2
			}
			samples := make([]float64, rounds)
			for r := range samples {
				start = cpuSeconds()
				for i := 0; i < reps; i++ {
					sink += len(bytes.ToUpper(in))
				}
				samples[r] = (cpuSeconds() - start) / float64(reps)
			}
			sort.Float64s(samples)
			fmt.Printf("%d %d %.1f\n", t, size, float64(size)/samples[rounds/2]/1e6)
		}
	}
	if sink == 0 {
		fmt.Fprintln(os.Stderr, "nothing done")
	}
}
