package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// loginLimiter counts failed logins per user name and per client address:
// after loginMaxFails within loginWindow, the next attempt waits until the
// oldest failure is loginWindow old. Guessing passwords becomes slow while
// a user who mistyped a few times is not locked out for long.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[string][]time.Time
	now   func() time.Time
}

const (
	loginMaxFails = 5
	loginWindow   = 15 * time.Minute
)

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: map[string][]time.Time{}, now: time.Now}
}

func limiterKeys(r *http.Request, name string) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"user:" + name, "addr:" + host}
}

// wait says how long until another attempt is allowed (0: now).
func (l *loginLimiter) wait(keys []string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, k := range keys {
		fs := l.recent(k, now)
		if len(fs) >= loginMaxFails {
			longest = max(longest, fs[len(fs)-loginMaxFails].Add(loginWindow).Sub(now))
		}
	}
	return longest
}

func (l *loginLimiter) fail(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.fails[k] = append(l.recent(k, now), now)
	}
}

// succeed forgets the user's failures (not the address's).
func (l *loginLimiter) succeed(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, keys[0])
}

// recent drops failures older than the window.
func (l *loginLimiter) recent(k string, now time.Time) []time.Time {
	fs := l.fails[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= loginWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.fails, k)
	} else {
		l.fails[k] = fs
	}
	return fs
}
