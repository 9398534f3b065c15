package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"safetynet/alerts"
)

// TestBrowserOfflineOutcome: on a phone with the network switched off, a
// grid worker records a visit; it waits on the phone (its text fields;
// a photo cannot be kept offline), the task still open on the server;
// with the network back it is sent by itself, tried again after a first
// try fails, and recorded exactly once.
func TestBrowserOfflineOutcome(t *testing.T) {
	ctx := browser(t)
	s := newSite(t)
	out := artifacts(t)
	task := dispatchedTask(t, s)
	card := fmt.Sprintf("%s/tasks/%d", s.srv.URL, task.TaskID)
	var saved string
	var offlinePNG []byte
	var controlled, offline, online bool
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		browserLogin(s.srv.URL, "gw"),
		chromedp.WaitVisible(fmt.Sprintf(`#task-%d`, task.TaskID)),
		chromedp.Navigate(card),
		chromedp.WaitVisible(`#outcome-form`),
		// Once the service worker is active, a page loaded after it is its.
		chromedp.Evaluate(`navigator.serviceWorker.ready.then(() => true)`, &controlled, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.Reload(),
		chromedp.WaitVisible(`#outcome-form`),
		chromedp.Poll(`navigator.serviceWorker.controller !== null`, &controlled, chromedp.WithPollingTimeout(20*time.Second)),
		network.Enable(),
		network.EmulateNetworkConditions(true, 0, -1, -1),
		chromedp.Poll(`navigator.onLine === false`, &offline, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click(`#o-assisted_application`, chromedp.ByQuery),
		chromedp.SendKeys(`#note`, "离线填写：已协助申请", chromedp.ByQuery),
		chromedp.Click(`#save-outcome`, chromedp.ByQuery),
		chromedp.WaitVisible(`#offline-status`),
		chromedp.Text(`#offline-status`, &saved),
		chromedp.CaptureScreenshot(&offlinePNG),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(saved, "已保存在手机上") {
		t.Errorf("offline, the form says %q", saved)
	}
	if got, _ := alerts.GetTask(context.Background(), s.chain.DB, task.TaskID); got.Status != "open" {
		t.Fatalf("offline, the task is %s on the server", got.Status)
	}
	// Offline, the task list still opens: the service worker kept it.
	var listed bool
	if err := chromedp.Run(ctx, chromedp.Navigate(s.srv.URL+"/tasks"),
		chromedp.Poll(fmt.Sprintf(`document.getElementById("task-%d") !== null`, task.TaskID), &listed, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the task list offline: %v", err)
	}
	var kept string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`localStorage.getItem("safetynet-outbox")`, &kept)); err != nil || !strings.Contains(kept, "outcome=assisted_application") || strings.Contains(kept, "photo=") {
		t.Errorf("the phone keeps %s (%v); want the outcome's text fields, no photo field (a photo cannot be kept offline)", kept, err)
	}
	// The network returns, but the first two sends fail (a village's
	// network comes back unsteadily; one try as it returns, one as the
	// page opens): the form stays on the phone and goes on a later try by
	// itself, once.
	var tries atomic.Int32
	chromedp.ListenTarget(ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			ex := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Target)
			if tries.Add(1) <= 2 {
				fetch.FailRequest(e.RequestID, network.ErrorReasonConnectionFailed).Do(ex)
				return
			}
			fetch.ContinueRequest(e.RequestID).Do(ex)
		}()
	})
	var left string
	var sent bool
	err = chromedp.Run(ctx,
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/outcome"}}),
		network.EmulateNetworkConditions(false, 0, -1, -1),
		chromedp.Poll(`navigator.onLine === true`, &online, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Navigate(s.srv.URL+"/tasks"),
		chromedp.Poll(`document.documentElement.dataset.outbox === "0"`, &sent, chromedp.WithPollingTimeout(45*time.Second)),
		chromedp.Evaluate(`document.documentElement.dataset.outbox`, &left),
		chromedp.Reload(), // and once more: nothing is sent twice
		chromedp.WaitVisible(`ul.tasks`),
	)
	if err != nil {
		var state string
		chromedp.Run(ctx, chromedp.Evaluate(`location.href + " outbox=" + document.documentElement.dataset.outbox + " online=" + navigator.onLine + " saved=" + localStorage.getItem("safetynet-outbox")`, &state))
		t.Fatalf("%v (%s)", err, state)
	}
	if n := tries.Load(); n < 3 {
		t.Errorf("the outcome was tried %d times; want the two failed tries and a later one", n)
	}
	got, err := alerts.GetTask(context.Background(), s.chain.DB, task.TaskID)
	if err != nil || got.Status != "done" || got.Outcome != "assisted_application" {
		t.Fatalf("after the network returned: %+v %v", got, err)
	}
	hist, _ := alerts.History(context.Background(), s.chain.DB, task.AlertID)
	visits := 0
	for _, h := range hist {
		if h.Event == alerts.EventVisited {
			visits++
		}
	}
	if visits != 1 {
		t.Errorf("the visit is recorded %d times", visits)
	}
	os.WriteFile(filepath.Join(out, "task-offline-saved-375px.png"), offlinePNG, 0o644)
}
