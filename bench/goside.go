package bench

import (
	"runtime/metrics"
	"time"
)

// goSide follows Go's own share of a stage, beside DuckDB's: the largest
// live heap the collector found (what the 512 MiB soft limit weighs; near
// it the collector runs all the time) and the CPU the collector took.
// Only the sampler writes live until end has waited for it to stop.
type goSide struct {
	live    uint64 // largest live heap this stage, bytes
	gcStart float64
	stop    chan struct{}
	done    chan struct{}
}

var goSideMetrics = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}

func readGoSide() (live uint64, gcSeconds float64) {
	s := append([]metrics.Sample(nil), goSideMetrics...)
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		gcSeconds = s[1].Value.Float64()
	}
	return live, gcSeconds
}

// start begins a stage: a sampler notes the live heap every 50 ms.
func (g *goSide) start() {
	live, gc := readGoSide()
	g.live, g.gcStart = live, gc
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go g.sample()
}

func (g *goSide) sample() {
	defer close(g.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-tick.C:
			live, _ := readGoSide()
			g.live = max(g.live, live)
		}
	}
}

// end stops the sampler and answers the stage's largest live heap and
// its collector's CPU seconds.
func (g *goSide) end() (live uint64, gcSeconds float64) {
	close(g.stop)
	<-g.done
	last, gc := readGoSide()
	return max(g.live, last), gc - g.gcStart
}
