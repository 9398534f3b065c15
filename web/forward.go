package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"safetynet/config"
	"safetynet/forward"
)

// apiForward serves a peer instance the records forwarded to it (package
// forward: the people its directory names, and those of its region in no
// directory), a page at a time, in the paging the
// HTTP connector speaks (config.ForwardProtocol). Each page served is in
// the audit log under the peer's name.
func (s *Server) apiForward(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	peer, ok := s.peer(w, r)
	if !ok {
		return
	}
	if peer.RegionPrefix == "" {
		writeAPIError(w, http.StatusForbidden, errors.New("this peer has no region: set the ID prefix of the people it answers for (safetynet users add --role peer --region CODE)"))
		return
	}
	p := config.ForwardProtocol
	q := r.URL.Query()
	size := p.PageSize
	if v := q.Get(p.SizeParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > forward.MaxPage {
			writeAPIError(w, http.StatusBadRequest, fmt.Errorf("%s must be 1 to %d", p.SizeParam, forward.MaxPage))
			return
		}
		size = n
	}
	var direct []string
	if v := q.Get(config.DirectParam); v != "" {
		direct = strings.Split(v, ",")
		for _, name := range direct {
			if !config.InstanceName(name) {
				writeAPIError(w, http.StatusBadRequest, fmt.Errorf("%s: %q is not an instance name (1 to 40 letters, digits, - or _)", config.DirectParam, name))
				return
			}
		}
	}
	source := r.PathValue("source")
	page, err := forward.Read(ctx, s.DB, forward.Request{Source: source, Peer: peer.Name, Region: peer.RegionPrefix, Key: s.PseudonymKey, Instance: s.Instance,
		Direct: direct, Since: q.Get(p.SinceParam), Cursor: q.Get(p.CursorParam), Size: size})
	switch {
	case errors.Is(err, forward.ErrSource):
		writeAPIError(w, http.StatusNotFound, err)
		return
	case errors.Is(err, forward.ErrRequest):
		writeAPIError(w, http.StatusBadRequest, err)
		return
	case err != nil:
		s.Log.Error("forward", "source", source, "peer", peer.Name, "err", err)
		writeAPIError(w, http.StatusInternalServerError, errors.New("the records could not be read; the pull can be tried again"))
		return
	}
	s.audit(ctx, peer.Name, "forward", source, fmt.Sprintf("region=%s since=%s records=%d more=%t",
		peer.RegionPrefix, q.Get(p.SinceParam), len(page.Records), page.Next != ""))
	records := page.Records
	if records == nil {
		records = []map[string]string{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{p.Records: records, p.NextCursor: page.Next})
}

// apiDirectory takes a peer's directory (package forward): the people it
// is responsible for, whose records are forwarded to it whatever county
// issued their IDs. It replaces the peer's last one whole, and is in the
// audit log under the peer's name.
func (s *Server) apiDirectory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	peer, ok := s.peer(w, r)
	if !ok {
		return
	}
	if !s.sameKey(w, r) {
		return
	}
	rc, err := forward.Receive(ctx, s.DB, forward.Arrival{Peer: peer.Name, Key: s.PseudonymKey, At: time.Now()},
		http.MaxBytesReader(w, r.Body, forward.MaxDirectoryBytes))
	s.answerDirectory(w, r, peer.Name, rc, err)
}

// apiDirectoryChange takes the change of a peer's directory from the one
// this instance holds (forward.ReceiveChange), or refuses it (409) when
// it was made from another, so that the peer sends it whole. It is in
// the audit log under the peer's name, as a directory sent whole is.
func (s *Server) apiDirectoryChange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	peer, ok := s.peer(w, r)
	if !ok || !s.sameKey(w, r) {
		return
	}
	c := forward.Change{Base: r.Header.Get(forward.BaseHeader), Digest: r.Header.Get(forward.DigestHeader)}
	rc, err := forward.ReceiveChange(ctx, s.DB, forward.Arrival{Peer: peer.Name, Key: s.PseudonymKey, At: time.Now()}, c,
		http.MaxBytesReader(w, r.Body, forward.MaxDirectoryBytes))
	s.answerDirectory(w, r, peer.Name, rc, err)
}

// answerDirectory answers a directory or a change: what was kept, noted
// in the audit log under the peer's name, or, when it was not stored,
// what the peer should do.
func (s *Server) answerDirectory(w http.ResponseWriter, r *http.Request, peer string, rc forward.Receipt, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		s.audit(r.Context(), peer, "forward_directory", "directory", rc.String())
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(rc)
	case errors.As(err, &tooBig):
		writeAPIError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("a directory is at most %d MiB", forward.MaxDirectoryBytes>>20))
	case errors.Is(err, forward.ErrDirectory):
		writeAPIError(w, http.StatusBadRequest, err)
	case errors.Is(err, forward.ErrStale):
		writeAPIError(w, http.StatusConflict, forward.ErrStale)
	default:
		s.Log.Error("forward directory", "peer", peer, "err", err)
		writeAPIError(w, http.StatusInternalServerError, errors.New("the directory could not be stored; send it again"))
	}
}

// apiDirectoryHeld answers a peer what directory of its this instance
// holds (forward.Held), so that it sends one only when it changed.
func (s *Server) apiDirectoryHeld(w http.ResponseWriter, r *http.Request) {
	peer, ok := s.peer(w, r)
	if !ok || !s.sameKey(w, r) {
		return
	}
	held, err := forward.HeldOf(r.Context(), s.DB, peer.Name)
	if err != nil {
		s.Log.Error("forward directory", "peer", peer.Name, "err", err)
		writeAPIError(w, http.StatusInternalServerError, errors.New("the directories held could not be read; ask again"))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(held)
}

// sameKey says whether the request's key check is this instance's
// pseudonym key's; when not, or without a key here, it answers why.
func (s *Server) sameKey(w http.ResponseWriter, r *http.Request) bool {
	if s.PseudonymKey == "" {
		writeAPIError(w, http.StatusServiceUnavailable, errors.New("this instance has no pseudonym key to read directories with: its administrator sets it (analytics.pseudonym_key_env); until then records are forwarded by the ID's region"))
		return false
	}
	if r.Header.Get(forward.KeyCheckHeader) != forward.KeyCheck(s.PseudonymKey) {
		writeAPIError(w, http.StatusConflict, forward.ErrKeyMismatch)
		return false
	}
	return true
}

// peer is the peer instance whose token the request carries; without one
// it answers 401 and false, and on a hub, for an instance it does not
// pull from, 403.
func (s *Server) peer(w http.ResponseWriter, r *http.Request) (*User, bool) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	peer, err := PeerByToken(r.Context(), s.DB, token)
	if err != nil {
		if !errors.Is(err, ErrBadToken) {
			s.Log.Error("forward: token", "err", err)
		}
		writeAPIError(w, http.StatusUnauthorized, ErrBadToken)
		return nil, false
	}
	if s.HubOf != nil && !slices.Contains(s.HubOf, peer.Name) {
		writeAPIError(w, http.StatusForbidden, fmt.Errorf("this hub pulls from no instance named %q: name a county's account as the county names itself (its config instance), and list it under the hub's peers", peer.Name))
		return nil, false
	}
	return peer, true
}

// writeAPIError answers a machine's request with its error as JSON.
func writeAPIError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
