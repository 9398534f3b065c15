package notify_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/notify"
)

// link is a TCP path to Alertmanager that can be cut and restored, as a
// network outage does: while cut, connections are refused.
type link struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn // open through the link, cut with it
}

func newLink(t *testing.T, target string) *link {
	l := &link{t: t, target: target}
	l.up()
	t.Cleanup(l.down)
	return l
}

func (l *link) up() {
	l.mu.Lock()
	defer l.mu.Unlock()
	addr := l.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.ln, l.addr = ln, ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.conns = append(l.conns, c)
			l.mu.Unlock()
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", l.target)
				if err != nil {
					return
				}
				defer b.Close()
				go io.Copy(b, c)
				io.Copy(c, b)
			}()
		}
	}()
}

func (l *link) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestAlertmanagerOutage: Alertmanager out of reach for a while (pushes
// fail, runs do not), then back: the first push after it delivers every
// alert due, the ones that became notable meanwhile too, and resolves the
// one dismissed meanwhile; each is there once.
func TestAlertmanagerOutage(t *testing.T) {
	ctx := context.Background()
	amURL := alertmanager(t)
	l := newLink(t, amURL[len("http://"):])
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	chain := countySite(t, "http://"+l.addr, asOf)
	cfg, db, pack := chain.Cfg, chain.DB, chain.Pack
	clock := asOf.Add(12 * time.Hour)
	chain.Now = func() time.Time { return clock }
	if _, err := chain.Run(ctx, "test", asOf); err != nil {
		t.Fatal(err)
	}
	before, _ := alerts.List(ctx, db, alerts.Filter{Notable: true})
	if got := listAM(t, amURL); len(got) != len(before) || len(before) < 2 {
		t.Fatalf("before the outage: alertmanager has %d, safetynet %d notable", len(got), len(before))
	}

	l.down()
	dismissed := before[0]
	if err := alerts.Act(ctx, db, alerts.Move{AlertID: dismissed.AlertID, Action: alerts.Dismiss, Actor: "op1", Note: "helped by the village", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A day later every open alert is past its due time: notable, with new labels.
	clock = clock.Add(30 * 24 * time.Hour)
	push := &notify.Alertmanager{Conf: cfg.Alertmanager, DB: db, Pack: pack}
	for i := 0; i < 3; i++ {
		if _, err := push.Push(ctx, time.Now()); err == nil {
			t.Fatal("a push through a cut link succeeded")
		}
	}
	if _, err := chain.Run(ctx, "test", asOf.AddDate(0, 0, 30)); err != nil {
		t.Fatalf("a run while alertmanager is out of reach: %v", err)
	}
	due, _ := alerts.List(ctx, db, alerts.Filter{Notable: true})

	l.up()
	res, err := push.Push(ctx, time.Now())
	if err != nil {
		t.Fatalf("the first push after the outage: %v", err)
	}
	got := listAM(t, amURL)
	if len(got) != len(due) {
		t.Errorf("after the outage alertmanager has %d alerts, safetynet %d due", len(got), len(due))
	}
	for _, a := range due {
		g, ok := got[itoa(a.AlertID)]
		if !ok {
			t.Errorf("alert %d, due, did not reach alertmanager", a.AlertID)
			continue
		}
		if g.Labels["overdue"] != notify.Labels(a)["overdue"] {
			t.Errorf("alert %d carries overdue=%q in alertmanager, %q in safetynet", a.AlertID, g.Labels["overdue"], notify.Labels(a)["overdue"])
		}
	}
	if _, ok := got[itoa(dismissed.AlertID)]; ok {
		t.Errorf("alert %d, dismissed during the outage, is still active in alertmanager", dismissed.AlertID)
	}
	if res.Resolved == 0 {
		t.Errorf("the push after the outage resolved nothing: %+v", res)
	}
	// Pushed again with nothing new, alertmanager holds the same, once each.
	if _, err := push.Push(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if again := listAM(t, amURL); len(again) != len(got) {
		t.Errorf("a second push: %d alerts, was %d", len(again), len(got))
	}
}
