package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"safetynet/alerts"
)

// TestBrowserEveryRole: each role, at desktop width and on a 375 px phone,
// logs in through the page, lands where their work is, logs out and in
// again and lands there again; an operator dispatches two alerts at once
// and reads the confirmation, assigns a township-queue visit that then
// reaches the grid worker's phone; every kind of refusal (no such page,
// the wrong role, a stale form, an expired session, too many failed
// logins) is a page of the site in Chinese. Screenshots of each land in
// $ARTIFACTS.
func TestBrowserEveryRole(t *testing.T) {
	ctx := browser(t)
	s := newSite(t)
	out := artifacts(t)
	task := dispatchedTask(t, s) // and the grid worker gw
	db := s.chain.DB
	var outside int64
	if err := db.QueryRow(`SELECT min(alert_id) FROM alerts WHERE household_id IS NULL AND status = 'new' AND starts_with(region_code, '330110')`).Scan(&outside); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Act(context.Background(), db, alerts.Move{AlertID: outside, Action: alerts.Dispatch, Actor: "admin", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var queued int64
	db.QueryRow(`SELECT task_id FROM tasks WHERE alert_id = ?`, outside).Scan(&queued)
	shots := map[string][]byte{}
	shoot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var b []byte
			if err := chromedp.CaptureScreenshot(&b).Do(ctx); err != nil { // the screen, as the user sees it first
				return err
			}
			shots[name] = b
			return nil
		})
	}
	submit := submitAndWait
	login := func(user string) chromedp.Tasks { return browserLogin(s.srv.URL, user) }
	logout := submit(`form[action="/logout"] button`, `#login`)
	path := func(p *string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var loc string
			if err := chromedp.Location(&loc).Do(ctx); err != nil {
				return err
			}
			u, err := url.Parse(loc)
			*p = u.Path
			return err
		})
	}
	homes := map[string]string{"op-yuhang": "/alerts", "gw": "/tasks", "analyst": "/analytics", "records": "/analytics", "admin": "/alerts"}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"375px", 375, 812}} {
		for user, home := range homes {
			var first, again string
			var width int
			err := retry(3, func() error {
				return chromedp.Run(ctx,
					chromedp.EmulateViewport(size.w, size.h),
					login(user), path(&first),
					chromedp.Evaluate(`document.documentElement.scrollWidth`, &width),
					shoot(fmt.Sprintf("home-%s-%s", user, size.name)),
					logout,
					login(user), path(&again),
					logout,
				)
			})
			if err != nil {
				t.Fatalf("%s at %s: %v", user, size.name, err)
			}
			if first != home || again != home {
				t.Errorf("%s at %s lands on %s, then %s; want %s", user, size.name, first, again, home)
			}
			if size.w == 375 && width > 375 {
				t.Errorf("%s's home is %d px wide on a 375 px screen", user, width)
			}
		}
	}

	// A bulk dispatch confirms itself; the township queue's visit goes to gw.
	var flashText, assigned, gwTasks string
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 900),
		login("op-yuhang"),
		chromedp.Navigate(s.srv.URL+"/alerts?status=new"),
		chromedp.WaitVisible(`#bulk-dispatch`),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('input[name=id][form=bulk]')).slice(0, 2).forEach(b => b.checked = true)`, nil),
		submit(`#bulk-dispatch`, `#flash`),
		chromedp.Text(`#flash`, &flashText),
		shoot("flash-bulk-dispatch"),
		chromedp.Navigate(s.srv.URL+"/deliveries"),
		chromedp.WaitVisible(`#sources`),
		shoot("deliveries"),
		chromedp.Navigate(s.srv.URL+"/queue"),
		chromedp.WaitVisible(fmt.Sprintf(`#assign-%d`, queued)),
		chromedp.SetValue(fmt.Sprintf(`#worker-%d`, queued), "gw"),
		submit(fmt.Sprintf(`#assign-%d`, queued), `#flash`),
		chromedp.Text(`#flash`, &assigned),
		shoot("queue-assigned"),
		logout,
		chromedp.EmulateViewport(375, 812),
		login("gw"),
		chromedp.WaitVisible(fmt.Sprintf(`#task-%d`, queued)),
		chromedp.Text(`main`, &gwTasks),
		shoot("tasks-after-assignment-375px"),
		logout,
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flashText, "已派单2条预警") {
		t.Errorf("after a bulk dispatch: %q", flashText)
	}
	if !strings.Contains(assigned, fmt.Sprintf("任务%d已分派给gw", queued)) {
		t.Errorf("after the assignment: %q", assigned)
	}
	hist, _ := alerts.History(context.Background(), db, outside)
	if last := hist[len(hist)-1]; last.Event != alerts.EventAssigned || last.Args[1] != "gw" {
		t.Errorf("the assignment is not in the alert's history: %+v", last)
	}
	_ = task

	// Every kind of refusal is a page of the site, in Chinese.
	refusals := []struct {
		name string
		run  chromedp.Tasks
		want string
	}{
		{"not-found", chromedp.Tasks{login("op-yuhang"), chromedp.Navigate(s.srv.URL + "/no/such/page"), chromedp.WaitVisible(`.error-page`)}, "404 · 没有这个页面"},
		{"wrong-role", chromedp.Tasks{login("analyst"), chromedp.Navigate(s.srv.URL + "/review"), chromedp.WaitVisible(`.error-page`)}, "403 · 此页面供经办人员和管理员使用"},
		{"stale-form", chromedp.Tasks{login("op-yuhang"), chromedp.Navigate(s.srv.URL + "/alerts?status=new"), chromedp.WaitVisible(`#bulk-dispatch`),
			chromedp.Evaluate(`document.querySelector('#bulk input[name=csrf]').value = 'stale'; document.querySelector('input[name=id][form=bulk]').checked = true`, nil),
			submit(`#bulk-dismiss`, `.error-page`)}, "403 · 表单已过期"},
		{"dismissal-without-reason", chromedp.Tasks{login("op-yuhang"), chromedp.Navigate(s.srv.URL + "/alerts?status=new"), chromedp.WaitVisible(`#bulk-dismiss`),
			chromedp.Evaluate(`document.querySelector('input[name=id][form=bulk]').checked = true`, nil),
			submit(`#bulk-dismiss`, `.error-page`)}, "400 · 排除预警需要填写原因"},
		{"expired-session", chromedp.Tasks{login("op-yuhang"),
			chromedp.ActionFunc(func(ctx context.Context) error {
				u, _ := url.Parse(s.srv.URL)
				return network.SetCookie(sessionCookie, "expired-or-forged").WithDomain(u.Hostname()).WithPath("/").Do(ctx)
			}),
			chromedp.Navigate(s.srv.URL + "/alerts"), chromedp.WaitVisible(`#login`)}, "登录已过期"},
	}
	for _, r := range refusals {
		var text string
		err := chromedp.Run(ctx, append(r.run, chromedp.Text(`main`, &text), shoot("refusal-"+r.name),
			chromedp.ActionFunc(func(ctx context.Context) error { return network.ClearBrowserCookies().Do(ctx) }))...)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if !strings.Contains(text, r.want) {
			t.Errorf("%s: the page says %q, want %q", r.name, text, r.want)
		}
		if l := leaks("<main>" + text + "</main>"); len(l) > 0 {
			t.Errorf("%s: %v", r.name, l)
		}
	}
	// Too many failed logins: the login page says so and when to try again.
	var limited string
	tasks := chromedp.Tasks{chromedp.Navigate(s.srv.URL + "/login")}
	for i := 0; i < 12; i++ {
		tasks = append(tasks, chromedp.WaitVisible(`#login`), chromedp.SetValue(`input[name=username]`, "op-yuhang"),
			chromedp.SetValue(`input[name=password]`, "wrong-password"), submit(`#login`, `#login`))
	}
	if err := chromedp.Run(ctx, append(tasks, chromedp.Text(`main`, &limited), shoot("refusal-too-many-logins"))...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(limited, "登录失败次数过多") {
		t.Errorf("after 12 failed logins: %q", limited)
	}
	for name, b := range shots {
		if len(b) < 1000 {
			t.Errorf("%s: empty screenshot", name)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d screenshots in %s", len(shots), out)
}

// retry runs f up to n times while it fails: the DevTools protocol now
// and then loses a node to a page that is still settling ("could not
// find node with given id"), which says nothing of the page.
func retry(n int, f func() error) error {
	var err error
	for i := 0; i < n; i++ {
		if err = f(); err == nil || !strings.Contains(err.Error(), "Could not find node") {
			return err
		}
	}
	return err
}

// submitAndWait clicks a button and waits for the page it leads to, not
// the one it was on (marked before the click).
func submitAndWait(button, then string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Evaluate(`document.body.dataset.before = "1"`, nil),
		chromedp.Click(button, chromedp.ByQuery),
		chromedp.WaitVisible(`body:not([data-before]) `+then, chromedp.ByQuery),
	}
}

// browserLogin logs user in through the login page (password-<user>).
func browserLogin(base, user string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/login"),
		chromedp.WaitReady(`body:not([data-before]) #login`, chromedp.ByQuery),
		chromedp.SetValue(`input[name=username]`, user, chromedp.ByQuery),
		chromedp.SetValue(`input[name=password]`, "password-"+user, chromedp.ByQuery),
		submitAndWait(`#login`, `main`),
	}
}
