// Package flight owns the Arrow Flight SQL endpoint of the analytic
// snapshot: analysts connect from Python (ADBC), DBeaver (the Flight SQL
// JDBC driver) or Go with a per-user token, under the same scope,
// pseudonyms, limits and audit as the web's SQL page: each query runs in
// its own locked DuckDB over the user's partitions of the snapshot.
package flight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"safetynet/analytics"
	"safetynet/store"
	"safetynet/web"
)

// maxMessage is how many bytes one Flight message carries at most: a
// batch of 65,536 rows of the registry view is over 4 MiB, which a gRPC
// client refuses by default.
const maxMessage = 3 << 20

// Server answers Flight SQL statements over the current snapshot.
type Server struct {
	flightsql.BaseServer
	DB     *store.DB // users, tokens and the audit log
	Dir    string    // the analytics directory
	Limits analytics.Limits
	Log    *slog.Logger
}

// Serve listens on addr until ctx ends; ready learns the address.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	s.Alloc = memory.DefaultAllocator
	srv := flight.NewServerWithMiddleware([]flight.ServerMiddleware{flight.CreateServerBasicAuthMiddleware(tokens{s})})
	srv.RegisterFlightService(flightsql.NewFlightServer(s))
	if err := srv.Init(addr); err != nil {
		return fmt.Errorf("flight: listen on %s: %w (another program has the port? set analytics.flight)", addr, err)
	}
	if ready != nil {
		ready(srv.Addr())
	}
	go func() {
		<-ctx.Done()
		srv.Shutdown()
	}()
	return srv.Serve()
}

// tokens checks the bearer token of every call.
type tokens struct{ s *Server }

func (t tokens) IsValid(token string) (any, error) {
	u, err := web.UserByToken(context.Background(), t.s.DB, token)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	return u, nil
}

func (tokens) Validate(username, password string) (string, error) {
	return "", status.Error(codes.Unauthenticated, "log in with a token (safetynet users token NAME), not a password")
}

func userOf(ctx context.Context) (*web.User, error) {
	u, ok := flight.AuthFromContext(ctx).(*web.User)
	if !ok || u == nil {
		return nil, status.Error(codes.Unauthenticated, "no user")
	}
	return u, nil
}

func (s *Server) open(ctx context.Context, u *web.User) (*analytics.Querier, error) {
	q, err := analytics.Open(ctx, s.Dir, u.RegionPrefix, s.Limits)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return q, nil
}

// GetFlightInfoStatement checks the statement (one SELECT over the
// analyst views) and returns its schema and a ticket to fetch it.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, err
	}
	q, err := s.open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	schema, err := q.Schema(ctx, cmd.GetQuery())
	if err != nil {
		s.audit(ctx, u, q, "refused: "+err.Error(), cmd.GetQuery())
		return nil, refusal(err)
	}
	ticket, err := flightsql.CreateStatementQueryTicket([]byte(cmd.GetQuery()))
	if err != nil {
		return nil, err
	}
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, s.Alloc),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}, nil
}

// DoGetStatement streams the statement's record batches, then audits
// the query with the rows it returned.
func (s *Server) DoGetStatement(ctx context.Context, cmd flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	text := string(cmd.GetStatementHandle())
	q, err := s.open(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan flight.StreamChunk, 2)
	ready := make(chan *arrow.Schema, 1) // the schema once the result is ready, nil if it never is
	go s.stream(ctx, u, q, text, ch, ready)
	if schema := <-ready; schema != nil {
		return schema, ch, nil
	}
	chunk := <-ch // the query failed before its first row: the reason, then the closed channel
	return nil, nil, chunk.Err
}

// stream runs the query and sends its batches; ready learns the schema
// when the result is ready, or nil when the query failed before that
// (then the only chunk is its error and nothing is audited here: the
// statement's FlightInfo call audited the refusal).
func (s *Server) stream(ctx context.Context, u *web.User, q *analytics.Querier, text string, ch chan<- flight.StreamChunk, ready chan<- *arrow.Schema) {
	defer close(ch)
	defer q.Close()
	var rows int64
	started := false
	err := q.Records(ctx, text, func(rr array.RecordReader) error {
		started = true
		ready <- rr.Schema()
		for rr.Next() {
			rec := rr.RecordBatch()
			// Slices small enough for a client's default 4 MiB message limit.
			step := max(1, rec.NumRows()*maxMessage/max(recordBytes(rec), 1))
			for off := int64(0); off < rec.NumRows(); off += step {
				part := rec.NewSlice(off, min(off+step, rec.NumRows()))
				select {
				case ch <- flight.StreamChunk{Data: part}:
					rows += part.NumRows()
				case <-ctx.Done():
					part.Release()
					return ctx.Err()
				}
			}
		}
		return nil
	})
	if !started {
		ready <- nil
		ch <- flight.StreamChunk{Err: refusal(err)}
		return
	}
	outcome := fmt.Sprintf("%d rows", rows)
	if err != nil {
		outcome = fmt.Sprintf("failed after %d rows: %v", rows, err)
		select {
		case ch <- flight.StreamChunk{Err: refusal(err)}:
		case <-ctx.Done():
		}
	}
	s.audit(context.WithoutCancel(ctx), u, q, outcome, text)
}

func (s *Server) audit(ctx context.Context, u *web.User, q *analytics.Querier, outcome, text string) {
	if err := web.Audit(ctx, s.DB, u.Name, "flight_sql", "snapshot:"+q.Manifest.Name, fmt.Sprintf("region=%s %s: %s", u.RegionPrefix, outcome, text)); err != nil {
		s.Log.Error("flight: audit log write failed", "err", err)
	}
}

// refusal is a query's error as the client sees it.
func refusal(err error) error {
	if errors.Is(err, analytics.ErrNotSelect) {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	return status.Error(codes.InvalidArgument, err.Error())
}

// recordBytes is about how many bytes a record batch's buffers hold.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
	}
	for _, c := range rec.Columns() {
		add(c.Data())
	}
	return n
}
