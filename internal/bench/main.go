package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	cfg := config{Out: os.Stdout, Log: os.Stderr}
	flag.IntVar(&cfg.Runs, "n", 0, "runs per case; the table shows the median (default 5, 1 with -quick)")
	flag.DurationVar(&cfg.RTT, "rtt", 0, "simulated round-trip time (default 50ms, 10ms with -quick)")
	flag.BoolVar(&cfg.Quick, "quick", false, "one run per case, no memory section (for tests and CI)")
	servers := flag.String("servers", "prosody,ejabberd", "servers to measure, comma-separated")
	flag.StringVar(&cfg.Python, "python", "/usr/bin/python3", `Python 3 with slixmpp 1.8 ("" to leave slixmpp out)`)
	timeout := flag.Duration("timeout", 5*time.Minute, "bound for the whole run")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/bench [flags]\n\nMeasures signup round trips and wall time against real Prosody and ejabberd\nthrough a latency proxy, with package register and with slixmpp.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, s := range strings.Split(*servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Servers = append(cfg.Servers, s)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if problems := rep.Problems(); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "bench:", p)
		}
		os.Exit(1)
	}
}
