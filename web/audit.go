package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"safetynet/store"
)

// AuditEntry is one line of the audit log: who looked at or did what.
type AuditEntry struct {
	At                            time.Time
	User, Action, Subject, Detail string
}

// AuditFilter narrows the audit log; empty fields match everything.
type AuditFilter struct {
	User, Action, Subject string
	From, To              string // days, YYYY-MM-DD, in the office's time zone; To included
	Limit                 int
}

const auditQuery = `SELECT logged_at, username, action, coalesce(subject, ''), coalesce(detail, '') FROM audit_log
WHERE (? = '' OR username = ?) AND (? = '' OR action = ?) AND (? = '' OR contains(coalesce(subject, ''), ?))
  AND (? = '' OR logged_at >= timezone('Asia/Shanghai', CAST(? AS DATE)::TIMESTAMP))
  AND (? = '' OR logged_at < timezone('Asia/Shanghai', CAST(? AS DATE)::TIMESTAMP + INTERVAL 1 DAY))
ORDER BY logged_at DESC, action`

// ReadAudit returns the audit log, newest first.
func ReadAudit(ctx context.Context, db *store.DB, f AuditFilter) ([]AuditEntry, error) {
	for _, d := range []string{f.From, f.To} {
		if _, err := time.Parse("2006-01-02", d); d != "" && err != nil {
			return nil, fmt.Errorf("audit: %q is not a day (YYYY-MM-DD)", d)
		}
	}
	q := auditQuery
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.QueryContext(ctx, q, f.User, f.User, f.Action, f.Action, f.Subject, f.Subject, f.From, f.From, f.To, f.To)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.At, &e.User, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func auditFilterFrom(r *http.Request) AuditFilter {
	q := r.URL.Query()
	return AuditFilter{User: q.Get("user"), Action: q.Get("action"), Subject: q.Get("subject"), From: q.Get("from"), To: q.Get("to")}
}

func (f AuditFilter) query() string {
	v := url.Values{}
	for k, x := range map[string]string{"user": f.User, "action": f.Action, "subject": f.Subject, "from": f.From, "to": f.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

const auditPageLimit = 500

type auditData struct {
	Filter  AuditFilter
	Query   string
	Entries []AuditEntry
	Limit   int
}

// auditPage shows the audit log to administrators, and only to them.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u *User) {
	if u.Role != Admin {
		s.fail(w, r, u, http.StatusForbidden, "e.admins_only")
		return
	}
	f := auditFilterFrom(r)
	f.Limit = auditPageLimit
	es, err := ReadAudit(r.Context(), s.DB, f)
	if err != nil {
		s.fail(w, r, u, http.StatusBadRequest, "e.bad_filter_plain", err.Error())
		return
	}
	s.render(w, r, "audit", u, http.StatusOK, auditData{Filter: f, Query: f.query(), Entries: es, Limit: auditPageLimit})
}

// exportAudit writes the audit log the filter finds as XLSX; the export
// itself is audited.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, u *User) {
	if u.Role != Admin {
		s.fail(w, r, u, http.StatusForbidden, "e.admins_only")
		return
	}
	f := auditFilterFrom(r)
	f.Limit = exportLimit
	es, err := ReadAudit(r.Context(), s.DB, f)
	if err != nil {
		s.fail(w, r, u, http.StatusBadRequest, "e.bad_filter_plain", err.Error())
		return
	}
	t := translator(lang(w, r))
	rows := make([][]any, 0, len(es))
	for _, e := range es {
		rows = append(rows, []any{e.At.In(shanghai).Format("2006-01-02 15:04:05"), e.User, e.Action, e.Subject, e.Detail})
	}
	s.audit(r.Context(), u.Name, "export_audit", "", fmt.Sprintf("%d entries, filter %s", len(es), f.query()))
	s.sendXLSX(w, r, "audit", t("audit"), []any{t("time"), t("username"), t("action"), t("subject"), t("details")}, rows)
}
