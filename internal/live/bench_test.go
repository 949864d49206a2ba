package live_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/live"
)

// BenchmarkCaseUpdateFanOut delivers one case update to 1,000 open event
// streams: real HTTP connections on loopback to the server's GET /events,
// each read by its own goroutine, all following 示例花园's board topic (a
// case change is published to every enclosing node's topic), opened by the
// demo accounts that may view it. One op is one publish, timed from the
// call to Hub.Publish to each stream's reading of the event's data line, so
// an op gives 1,000 receipts. The event is what the service desk publishes
// for a case (id, number, state, paused), with the round's number added.
//
// Reported: p50, p99 and max of the receipts (target p99 < 100 ms), and
// publish-us, how long the Publish call itself takes.
func BenchmarkCaseUpdateFanOut(b *testing.B) {
	const subscribers = 1000
	e := apptest.Start(b, dbtest.Open(b, db.SQLite))
	site := e.SiteID("示例花园")
	var path string
	if err := e.DB.R.QueryRow(`SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
		b.Fatal(err)
	}
	topic := live.NodeTopic(path)
	var tokens []string
	for _, u := range []string{"admin", "manager", "supervisor", "butler", "technician"} {
		tokens = append(tokens, e.Login(u))
	}

	var (
		round    atomic.Int64 // the round being published
		sentAt   atomic.Int64 // its Publish call, UnixNano
		received atomic.Int64
		done     = make(chan struct{}, 1)
		lat      = &apptest.Latencies{}
	)
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: subscribers, DisableCompression: true}}
	var readers sync.WaitGroup
	b.Cleanup(func() {
		cancel()
		e.App.Live.Shutdown()
		readers.Wait()
		client.CloseIdleConnections()
	})
	connected := make(chan error, subscribers)
	open := func(i int) {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events?topic="+topic, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		req.Header.Set("Accept", "text/event-stream")
		res, err := client.Do(req)
		if err != nil {
			connected <- err
			return
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			connected <- fmt.Errorf("stream %d: status %d", i, res.StatusCode)
			return
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer res.Body.Close()
			r := bufio.NewReaderSize(res.Body, 4096)
			ours := false
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				switch {
				case bytes.HasPrefix(line, []byte(": connected")):
					connected <- nil
				case bytes.HasPrefix(line, []byte("event: ")):
					ours = bytes.HasPrefix(line, []byte("event: case.updated"))
				case ours && bytes.HasPrefix(line, []byte("data: ")):
					at := time.Now()
					if seqOf(line) != round.Load() {
						b.Errorf("stream %d: an event of another round", i)
						continue
					}
					lat.Add(at.Sub(time.Unix(0, sentAt.Load())))
					if received.Add(1) == subscribers {
						done <- struct{}{}
					}
				}
			}
		}()
	}
	// Open the streams 50 at a time, as pages load.
	sem := make(chan struct{}, 50)
	for i := 0; i < subscribers; i++ {
		sem <- struct{}{}
		go func() { defer func() { <-sem }(); open(i) }()
	}
	for i := 0; i < subscribers; i++ {
		if err := <-connected; err != nil {
			b.Fatal(err)
		}
	}
	if n := e.App.Live.Subscribers(); n < subscribers {
		b.Fatalf("%d subscribers, want %d", n, subscribers)
	}
	publish := func() (time.Duration, error) {
		n := round.Add(1)
		received.Store(0)
		ev := live.Event{Topic: topic, Type: "case.updated",
			Data: []byte(`{"id":17,"number":"BX-20261127-0042","state":"accepted","paused":false,"round":` + strconv.FormatInt(n, 10) + `}`)}
		began := time.Now()
		sentAt.Store(began.UnixNano())
		e.App.Live.Publish(ev)
		took := time.Since(began)
		select {
		case <-done:
			return took, nil
		case <-time.After(10 * time.Second):
			return took, fmt.Errorf("round %d: %d of %d streams heard the event", n, received.Load(), subscribers)
		}
	}
	for range 3 { // warm up: every stream's buffers and goroutines in use once
		if _, err := publish(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) {
		*lat = apptest.Latencies{}
		var publishing time.Duration
		b.ResetTimer()
		cpu := apptest.CPUTime()
		for i := 0; i < b.N; i++ {
			took, err := publish()
			if err != nil {
				b.Fatal(err)
			}
			publishing += took
		}
		cpu = apptest.CPUTime() - cpu
		b.StopTimer()
		// Server and readers share this process: the readers' half would
		// be spent by the browsers.
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		lat.Report(b, "")
		b.ReportMetric(float64(publishing.Microseconds())/float64(b.N), "publish-us")
		b.ReportMetric(float64(lat.Len())/float64(b.N), "receipts/op")
		apptest.ReportLoad(b)
	})
}

// seqOf reads the round number from an event's data line.
func seqOf(line []byte) int64 {
	i := bytes.Index(line, []byte(`"round":`))
	if i < 0 {
		return -1
	}
	n, _ := strconv.ParseInt(string(bytes.TrimRight(line[i+len(`"round":`):], "}\r\n")), 10, 64)
	return n
}
