// Package config loads and validates safetynet.yaml. Everything but the
// paths has a default; a bad value is reported with the file, the line,
// the key and what is allowed, so an administrator can fix it at once.
package config

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Sources are the department feeds safetynet knows, in the order a run takes them.
var Sources = []string{"registry", "education", "health", "medins", "disability"}

// Config is a loaded safetynet.yaml. Paths are absolute after Load.
type Config struct {
	File string `yaml:"-"` // where it was loaded from

	Database  string `yaml:"database"`
	Inbox     string `yaml:"inbox"`
	Processed string `yaml:"processed"`
	Rejected  string `yaml:"rejected"`
	Timezone  string `yaml:"timezone"`
	// MemoryLimit caps DuckDB's memory; it spills to disk beyond it.
	MemoryLimit string `yaml:"memory_limit"`

	Standards      Standards           `yaml:"standards"`
	SeriousIllness []string            `yaml:"serious_illness_codes"`
	Sources        map[string]Source   `yaml:"sources"`
	Rules          map[string]RuleConf `yaml:"rules"`
	Match          Match               `yaml:"match"`
	Web            Web                 `yaml:"web"`
	Alertmanager   Alertmanager        `yaml:"alertmanager"`
	Analytics      Analytics           `yaml:"analytics"`
	// Instance names this installation to its peers: the records it
	// forwards carry it before their own IDs, so that two counties'
	// hospital numbers never meet as one record.
	Instance string `yaml:"instance"`
	// Peers are the other instances this one pulls forwarded records
	// from: what their departments sent about people registered here.
	Peers map[string]Peer `yaml:"peers"`
	// Hub makes this instance a province's hub (docs/scale.md): it holds
	// no registry and raises no alerts; it pulls from its peers what they
	// forward to it, takes the files of province-wide departments in its
	// inboxes, and forwards each record to the county responsible for its
	// person, so that each county names one peer, the hub, instead of
	// every other county.
	Hub bool `yaml:"hub"`

	Location *time.Location `yaml:"-"`
}

// Peer is another safetynet instance that forwards this one the records
// of people it is responsible for (docs/scale.md): its forwarding
// endpoint, the token it issued to this instance (`safetynet users token`
// there, for a user of role peer), and which sources to pull.
type Peer struct {
	URL      string   `yaml:"url"`       // e.g. https://county-a.example/api/forward
	TokenEnv string   `yaml:"token_env"` // the environment variable holding the token
	Sources  []string `yaml:"sources"`   // unset: the four departments
	// RateLimit is requests per second to the peer (2 when unset).
	RateLimit float64 `yaml:"rate_limit"`
}

// ForwardProtocol is how an instance's forwarding endpoint pages: the
// HTTP connector's cursor pagination over the records linked after the
// peer's last complete pull. The endpoint and its peers' pulls both read
// it, so they cannot disagree.
var ForwardProtocol = HTTP{Records: "records", Pagination: "cursor", CursorParam: "cursor", NextCursor: "next_cursor",
	SizeParam: "page_size", PageSize: 1000, SinceParam: "since", WatermarkField: "linked_at"}

// HTTP is the pull of a source's records from the peer.
func (p Peer) HTTP(source string) HTTP {
	h := ForwardProtocol
	h.URL = strings.TrimSuffix(p.URL, "/") + "/" + source
	h.TokenEnv = p.TokenEnv
	h.RateLimit = p.RateLimit
	if h.RateLimit == 0 {
		h.RateLimit = 2
	}
	return h.WithDefaults()
}

// DirectParam names, in a pull from a peer, the other peers this
// instance pulls from directly: the peer (a hub) leaves out the records
// it relays from them, which come from them under their own name.
const DirectParam = "direct"

// PeerHTTP is the pull of a source from the peer named, telling it the
// other peers pulled directly (DirectParam).
func (c *Config) PeerHTTP(peer, source string) HTTP {
	h := c.Peers[peer].HTTP(source)
	others := slices.DeleteFunc(slices.Sorted(maps.Keys(c.Peers)), func(p string) bool { return p == peer })
	if len(others) == 0 {
		return h
	}
	u, err := url.Parse(h.URL)
	if err != nil {
		return h // the pull reports the URL it cannot read
	}
	q := u.Query()
	q.Set(DirectParam, strings.Join(others, ","))
	u.RawQuery = q.Encode()
	h.URL = u.String()
	return h
}

// InstanceName says whether name can name an instance.
func InstanceName(name string) bool { return instanceName.MatchString(name) }

// HubOf are the instances a hub pulls from, sorted; nil when this
// instance is not a hub.
func (c *Config) HubOf() []string {
	if !c.Hub {
		return nil
	}
	return slices.Sorted(maps.Keys(c.Peers))
}

// PeerSources are the sources pulled from a peer: the ones it names, or
// every department (each source but the registry).
func (p Peer) PeerSources() []string {
	if len(p.Sources) > 0 {
		return p.Sources
	}
	return slices.DeleteFunc(slices.Clone(Sources), func(s string) bool { return s == "registry" })
}

// Analytics configures the analytic snapshot published after every run.
type Analytics struct {
	// Dir holds snapshots/ and the CURRENT pointer.
	Dir string `yaml:"dir"`
	// PseudonymKeyEnv names the environment variable holding the key of
	// the analysts' pseudonyms; the key itself never goes in this file.
	// Unset or empty, no snapshot is published.
	PseudonymKeyEnv string `yaml:"pseudonym_key_env"`
	// Months is how many month ends back the monthly views go.
	Months int `yaml:"months"`
	// SmallCell is k: counts an aggregates-only analyst sees below it show
	// as "<k", with the cells that would give them away hidden too.
	SmallCell int `yaml:"small_cell"`
	// Lake, when set, is the province's or the country's shared folder:
	// after each snapshot the saved cohorts' counts by township and
	// month, small cells suppressed, are written there as Hive Parquet
	// under this instance's name. No person's row leaves. Empty: off.
	Lake string `yaml:"lake"`
	// Flight is where serve listens for Arrow Flight SQL (record-level
	// analysts, with a token from `safetynet users token`); empty: off.
	Flight string `yaml:"flight"`
}

// Standards are the monthly 低保 standards in yuan per person.
type Standards struct {
	DefaultMonthly float64            `yaml:"default_monthly"`
	ByRegion       map[string]float64 `yaml:"by_region"` // region-code prefix → monthly standard
}

// Source configures one department feed.
type Source struct {
	Enabled  *bool  `yaml:"enabled"`
	Schedule string `yaml:"schedule"`
	// StaleAfter is how long the source may go without a delivery that
	// gets through before it is reported stale (page, metric); unset,
	// 26h (50h for the registry).
	StaleAfter time.Duration       `yaml:"stale_after"`
	Aliases    map[string][]string `yaml:"aliases"` // canonical column → extra header names
	// Kind is how the records arrive: files dropped in the inbox (drop,
	// the default), an HTTP API (http) or a PostgreSQL query (postgres).
	Kind string `yaml:"kind"`
	// Encoding and Delimiter force how dropped text files are read when
	// detection guesses wrong ("" detects).
	Encoding  string    `yaml:"encoding"`
	Delimiter string    `yaml:"delimiter"`
	HTTP      *HTTP     `yaml:"http"`
	Postgres  *Postgres `yaml:"postgres"`
}

// HTTP is a source that pages through a JSON API.
type HTTP struct {
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding the bearer token:
	// secrets stay out of this file.
	TokenEnv string `yaml:"token_env"`
	// Records is the dotted path of the array of records in a page ("" when
	// the page is the array itself).
	Records    string `yaml:"records"`
	Pagination string `yaml:"pagination"` // page (page number and size) or cursor
	PageParam  string `yaml:"page_param"`
	SizeParam  string `yaml:"size_param"`
	PageSize   int    `yaml:"page_size"`
	// CursorParam carries the cursor the previous page gave at NextCursor (a dotted path).
	CursorParam string `yaml:"cursor_param"`
	NextCursor  string `yaml:"next_cursor"`
	// SinceParam asks for the records changed since the watermark, the
	// highest WatermarkField seen by the last complete pull.
	SinceParam     string        `yaml:"since_param"`
	WatermarkField string        `yaml:"watermark_field"`
	RateLimit      float64       `yaml:"rate_limit"` // requests per second
	Timeout        time.Duration `yaml:"timeout"`    // per request
	Retries        int           `yaml:"retries"`    // per request, with back-off
	CommitEvery    int           `yaml:"commit_every"`
}

// Postgres is a source read from a query or view in a PostgreSQL database.
type Postgres struct {
	// DSNEnv names the environment variable holding the connection string
	// (postgres://user:password@host/db): secrets stay out of this file.
	DSNEnv string `yaml:"dsn_env"`
	// Query is a SELECT, or the name of a table or view.
	Query string `yaml:"query"`
	// Incremental is a column of the query that grows when a record
	// changes (updated_at, a sequence); only rows at or past the last
	// value read are fetched.
	Incremental string `yaml:"incremental"`
	BatchRows   int    `yaml:"batch_rows"`
}

// WithDefaults fills the unset HTTP settings.
func (h HTTP) WithDefaults() HTTP {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&h.Pagination, "page")
	def(&h.PageParam, "page")
	def(&h.SizeParam, "page_size")
	def(&h.CursorParam, "cursor")
	def(&h.NextCursor, "next_cursor")
	def(&h.SinceParam, "updated_since")
	def(&h.WatermarkField, "updated_at")
	if h.PageSize <= 0 {
		h.PageSize = 1000
	}
	if h.RateLimit <= 0 {
		h.RateLimit = 5
	}
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	if h.Retries <= 0 {
		h.Retries = 5
	}
	if h.CommitEvery <= 0 {
		h.CommitEvery = 50_000
	}
	return h
}

// WithDefaults fills the unset PostgreSQL settings.
func (p Postgres) WithDefaults() Postgres {
	if p.BatchRows <= 0 {
		p.BatchRows = 50_000
	}
	return p
}

// On reports whether the source is switched on (the default).
func (s Source) On() bool { return s.Enabled == nil || *s.Enabled }

// RuleConf switches a built-in rule off, changes its parameters or its
// query, or, under an id the pack does not have, adds a rule of one's own
// (title, severity, params and sql over the views of the rule pack).
type RuleConf struct {
	Enabled  *bool             `yaml:"enabled"`
	Params   map[string]any    `yaml:"params"`
	Title    map[string]string `yaml:"title"` // zh, en
	Severity string            `yaml:"severity"`
	SQL      string            `yaml:"sql"`
}

// Match sets what a probabilistic match does: at or above LinkThreshold
// the record links, at or above ReviewThreshold it waits for a person.
type Match struct {
	LinkThreshold   float64 `yaml:"link_threshold"`
	ReviewThreshold float64 `yaml:"review_threshold"`
}

// Alertmanager is where new critical and overdue alerts are pushed
// (a Prometheus Alertmanager's v2 API), so offices reuse its routing,
// grouping and silences. No URL: nothing is pushed.
type Alertmanager struct {
	URL string `yaml:"url"` // e.g. http://127.0.0.1:9093
	// ExternalURL is where the alerts' links point: this server as people
	// reach it.
	ExternalURL string `yaml:"external_url"`
	// Resend is how often open alerts are sent again; Alertmanager
	// resolves an alert not heard of for 4 times this.
	Resend time.Duration `yaml:"resend"`
}

// Web configures the server.
type Web struct {
	Addr string `yaml:"addr"`
	// TLSCert and TLSKey, both set, make serve speak HTTPS itself
	// (--tls-cert and --tls-key override them).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// TrustedProxies are the addresses (or CIDR ranges) of the reverse
	// proxies in front of serve: only from them are X-Forwarded-For and
	// X-Forwarded-Proto believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Default returns the configuration every key falls back to.
func Default() Config {
	c := Config{
		Database:       "safetynet.duckdb",
		Inbox:          "inbox",
		Processed:      "processed",
		Rejected:       "rejected",
		Timezone:       "Asia/Shanghai",
		MemoryLimit:    "512MB",
		Standards:      Standards{DefaultMonthly: 480},
		SeriousIllness: []string{"C00-C97", "N18.5", "I60-I64", "D61", "D66", "Z94"},
		Sources:        map[string]Source{},
		Rules:          map[string]RuleConf{},
		Web:            Web{Addr: ":8080"},
		Match:          Match{LinkThreshold: 0.95, ReviewThreshold: 0.5},
		Alertmanager:   Alertmanager{ExternalURL: "http://localhost:8080", Resend: time.Minute},
		Analytics:      Analytics{Dir: "analytics", PseudonymKeyEnv: "SAFETYNET_PSEUDONYM_KEY", Months: 24, SmallCell: 5},
		Instance:       "safetynet",
	}
	for _, s := range Sources {
		c.Sources[s] = Source{Schedule: "0 */30 * * * *", StaleAfter: 26 * time.Hour}
	}
	c.Sources["registry"] = Source{Schedule: "0 0 2 * * *", StaleAfter: 50 * time.Hour}
	return c
}

// Error is a validation error tied to a place in the file.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// Load reads the file at path over the defaults and validates it. Relative
// paths in it are taken from the file's folder.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w (create one with `safetynet init --dir DIR`)", err)
	}
	abs, _ := filepath.Abs(path)
	c, err := Parse(raw, abs)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Parse is Load on bytes; file names the origin in errors and anchors relative paths.
func Parse(raw []byte, file string) (*Config, error) {
	c := Default()
	c.File = file
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// Sources given in the file replace the default entry as a whole, so
	// merge per source afterwards: decode into a fresh map.
	defaults := c.Sources
	c.Sources = nil
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %s (see the commented file `safetynet init` writes for every key)", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	merged := map[string]Source{}
	for k, v := range defaults {
		merged[k] = v
	}
	for k, v := range c.Sources {
		d := merged[k]
		if v.Schedule == "" {
			v.Schedule = d.Schedule
		}
		if v.StaleAfter == 0 {
			v.StaleAfter = d.StaleAfter
		}
		merged[k] = v
	}
	c.Sources = merged
	if err := c.validate(&root); err != nil {
		return nil, err
	}
	base := filepath.Dir(file)
	for _, p := range []*string{&c.Database, &c.Inbox, &c.Processed, &c.Rejected, &c.Analytics.Dir, &c.Web.TLSCert, &c.Web.TLSKey} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	return &c, nil
}

var regionPrefix = regexp.MustCompile(`^[0-9]{2,12}$`)
var codeRange = regexp.MustCompile(`^[A-Z][0-9]{2}(\.[0-9]{1,2})?(-[A-Z][0-9]{2}(\.[0-9]{1,2})?)?$`)

// AdminSocket is where serve listens for the CLI's commands: beside the
// database, so that whoever may read the database may use it, and no one
// else.
func (c *Config) AdminSocket() string {
	return filepath.Join(filepath.Dir(c.Database), "safetynet.sock")
}

// ParseProxy reads one trusted_proxies entry: an address or a range.
func ParseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// PhotoDir is where visit photos are kept, by their SHA-256, beside the
// database.
func (c *Config) PhotoDir() string { return filepath.Join(filepath.Dir(c.Database), "photos") }

// StaleAfter is each source's allowance before it is reported stale.
func (c *Config) StaleAfter() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, s := range c.Sources {
		out[name] = s.StaleAfter
	}
	return out
}

// CronParser is the schedule syntax: five fields, or six with seconds first,
// or a descriptor such as @every 1h.
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) validate(root *yaml.Node) error {
	fail := func(msg string, path ...string) error {
		return &Error{File: c.File, Line: lineOf(root, path...), Key: strings.Join(path, "."), Msg: msg}
	}
	for _, k := range []struct {
		v    string
		name string
	}{{c.Database, "database"}, {c.Inbox, "inbox"}, {c.Processed, "processed"}, {c.Rejected, "rejected"}} {
		if strings.TrimSpace(k.v) == "" {
			return fail("must be a path", k.name)
		}
	}
	if c.MemoryLimit != "" && !memorySize.MatchString(c.MemoryLimit) {
		return fail(fmt.Sprintf("%q is not an amount of memory (e.g. 1GB, 512MB)", c.MemoryLimit), "memory_limit")
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return fail(fmt.Sprintf("%q is not a time zone (want an IANA name such as Asia/Shanghai)", c.Timezone), "timezone")
	}
	c.Location = loc
	if am := c.Alertmanager; am.URL != "" {
		if u, err := url.Parse(am.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(fmt.Sprintf("%q is not an http(s) URL (want e.g. http://127.0.0.1:9093)", am.URL), "alertmanager", "url")
		}
		if am.Resend < 10*time.Second {
			return fail("must be at least 10s (e.g. 1m)", "alertmanager", "resend")
		}
	}
	if (c.Web.TLSCert == "") != (c.Web.TLSKey == "") {
		return fail("tls_cert and tls_key go together: give both files, or neither", "web")
	}
	for i, p := range c.Web.TrustedProxies {
		if _, err := ParseProxy(p); err != nil {
			return fail(fmt.Sprintf("entry %d, %q, is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)", i+1, p), "web", "trusted_proxies")
		}
	}
	if c.Standards.DefaultMonthly <= 0 {
		return fail("must be a positive amount in yuan per person per month (e.g. 480)", "standards", "default_monthly")
	}
	if a := c.Analytics; a.SmallCell < 2 || a.SmallCell > 100 {
		return fail(fmt.Sprintf("%d is not a smallest shown count from 2 to 100 (e.g. 5)", a.SmallCell), "analytics", "small_cell")
	}
	if a := c.Analytics; a.Flight != "" {
		if _, _, err := net.SplitHostPort(a.Flight); err != nil {
			return fail(fmt.Sprintf("%q is not a listen address host:port (e.g. 127.0.0.1:8815)", a.Flight), "analytics", "flight")
		}
	}
	if a := c.Analytics; a.Months < 1 || a.Months > 120 {
		return fail(fmt.Sprintf("%d is not a number of months from 1 to 120 (e.g. 24)", a.Months), "analytics", "months")
	}
	if a := c.Analytics; strings.TrimSpace(a.Dir) == "" || strings.TrimSpace(a.PseudonymKeyEnv) == "" {
		return fail("needs dir and pseudonym_key_env (the name of an environment variable, never the key)", "analytics")
	}
	for prefix, v := range c.Standards.ByRegion {
		if !regionPrefix.MatchString(prefix) {
			return fail(fmt.Sprintf("%q is not a region-code prefix (2 to 12 digits, quoted)", prefix), "standards", "by_region", prefix)
		}
		if v <= 0 {
			return fail("must be a positive amount in yuan", "standards", "by_region", prefix)
		}
	}
	for i, code := range c.SeriousIllness {
		if !codeRange.MatchString(code) {
			return fail(fmt.Sprintf("item %d %q is not an ICD-10 code or range (e.g. C34, N18.5, C00-C97)", i+1, code), "serious_illness_codes")
		}
	}
	names := make([]string, 0, len(c.Sources))
	for name := range c.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !known(name) {
			return fail(fmt.Sprintf("unknown source (known: %s)", strings.Join(Sources, ", ")), "sources", name)
		}
		s := c.Sources[name]
		if _, err := CronParser.Parse(s.Schedule); err != nil {
			return fail(fmt.Sprintf("%q is not a schedule: %v (want e.g. \"0 */30 * * * *\", \"*/15 * * * *\" or \"@every 1h\")", s.Schedule, err), "sources", name, "schedule")
		}
		if s.StaleAfter < 0 {
			return fail(fmt.Sprintf("%s is negative: how long the source may go quiet, e.g. 26h", s.StaleAfter), "sources", name, "stale_after")
		}
		if err := s.validate(func(msg string, path ...string) error {
			return fail(msg, append([]string{"sources", name}, path...)...)
		}); err != nil {
			return err
		}
	}
	if m := c.Match; m.LinkThreshold <= 0 || m.LinkThreshold > 1 || m.ReviewThreshold < 0 || m.ReviewThreshold > m.LinkThreshold {
		return fail(fmt.Sprintf("want 0 ≤ review_threshold ≤ link_threshold ≤ 1 (match probabilities), got %v and %v", m.ReviewThreshold, m.LinkThreshold), "match")
	}
	if c.Web.Addr == "" {
		return fail("must be a listen address such as :8080", "web", "addr")
	}
	if !instanceName.MatchString(c.Instance) {
		return fail(fmt.Sprintf("%q is not an instance name: 1 to 40 letters, digits, - or _ (e.g. county-330102)", c.Instance), "instance")
	}
	peers := make([]string, 0, len(c.Peers))
	for name := range c.Peers {
		peers = append(peers, name)
	}
	sort.Strings(peers)
	for _, name := range peers {
		p := c.Peers[name]
		if !instanceName.MatchString(name) {
			return fail("a peer's name is 1 to 40 letters, digits, - or _ (its instance name)", "peers", name)
		}
		if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(fmt.Sprintf("%q is not an http(s) URL: the peer's forwarding endpoint, e.g. https://county-a.example/api/forward", p.URL), "peers", name, "url")
		}
		if !envName.MatchString(p.TokenEnv) {
			return fail("name the environment variable that holds the token the peer issued (safetynet users token, there), e.g. SAFETYNET_PEER_TOKEN", "peers", name, "token_env")
		}
		for _, s := range p.Sources {
			if !known(s) || s == "registry" {
				return fail(fmt.Sprintf("%q is not a department source (education, health, medins, disability)", s), "peers", name, "sources")
			}
		}
		if p.RateLimit < 0 {
			return fail("requests per second must not be negative", "peers", name, "rate_limit")
		}
	}
	if c.Hub && len(c.Peers) == 0 {
		return fail("a hub pulls from the counties it joins: name each under peers, by its instance name", "hub")
	}
	if c.Hub && c.Sources["registry"].On() {
		return fail("a hub holds no registry (its records go to the counties that do): set sources.registry.enabled: false", "hub")
	}
	return nil
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

var memorySize = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?([KMGT]i?B)$`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (s Source) validate(fail func(msg string, path ...string) error) error {
	switch s.Encoding {
	case "", "utf-8", "gb18030", "gbk", "utf-16le", "utf-16be":
	default:
		return fail(fmt.Sprintf("%q is not an encoding (utf-8, gb18030, utf-16le, utf-16be)", s.Encoding), "encoding")
	}
	switch s.Delimiter {
	case "", ",", ";", "|", "tab":
	default:
		return fail(fmt.Sprintf("%q is not a delimiter (\",\", \";\", \"|\" or tab)", s.Delimiter), "delimiter")
	}
	switch s.Kind {
	case "", "drop":
		if s.HTTP != nil || s.Postgres != nil {
			return fail("http and postgres settings need kind: http or kind: postgres", "kind")
		}
	case "http":
		h := s.HTTP
		if h == nil {
			return fail("kind: http needs an http section with at least url", "http")
		}
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(fmt.Sprintf("%q is not an http(s) URL", h.URL), "http", "url")
		}
		if u.User != nil {
			return fail("put no credentials in the URL: name an environment variable under token_env", "http", "url")
		}
		if h.TokenEnv != "" && !envName.MatchString(h.TokenEnv) {
			return fail(fmt.Sprintf("%q is not an environment variable name", h.TokenEnv), "http", "token_env")
		}
		if h.Pagination != "" && h.Pagination != "page" && h.Pagination != "cursor" {
			return fail(fmt.Sprintf("%q: want page or cursor", h.Pagination), "http", "pagination")
		}
	case "postgres":
		p := s.Postgres
		if p == nil || p.DSNEnv == "" || strings.TrimSpace(p.Query) == "" {
			return fail("kind: postgres needs a postgres section with dsn_env and query", "postgres")
		}
		if !envName.MatchString(p.DSNEnv) {
			return fail(fmt.Sprintf("%q is not an environment variable name", p.DSNEnv), "postgres", "dsn_env")
		}
		if p.Incremental != "" && !envName.MatchString(p.Incremental) {
			return fail(fmt.Sprintf("%q is not a plain column name", p.Incremental), "postgres", "incremental")
		}
	default:
		return fail(fmt.Sprintf("%q is not a kind of source (drop, http or postgres)", s.Kind), "kind")
	}
	return nil
}

func known(source string) bool {
	for _, s := range Sources {
		if s == source {
			return true
		}
	}
	return false
}

// lineOf finds the line of the key at path in a YAML document, or of the
// deepest part of the path that exists.
func lineOf(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}
