package latency

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is the read buffer size per direction.
const chunkSize = 32 << 10

// queueLen bounds the chunks in flight per direction (and so the memory
// used: at most queueLen*chunkSize bytes). When the queue is full the
// proxy stops reading, which pushes back on the sender like a TCP window.
const queueLen = 256

// dialTimeout bounds the connection to the target.
const dialTimeout = 10 * time.Second

// Stats are the counters of a [Proxy] since it started or since the last
// [Proxy.Reset]. Byte counters and the "client received data" state are
// updated just before data is written to the other side, so once a client
// has read a reply, Stats already includes it: counts taken after a
// synchronous exchange are exact.
type Stats struct {
	// Connections is the number of accepted client connections
	// (including Blackhole ones and ones whose target could not be
	// reached).
	Connections int64
	// ConnectRTTs is the number of simulated TCP handshakes, one per
	// accepted connection that was forwarded to the target (not counted
	// for Blackhole connections or when dialing the target failed). Each
	// costs 2*Delay before any data is forwarded.
	ConnectRTTs int64
	// BytesUp is the number of bytes forwarded from clients to the
	// target.
	BytesUp int64
	// BytesDown is the number of bytes forwarded from the target to
	// clients.
	BytesDown int64
	// RoundTrips counts client "turns", summed over all connections: the
	// first time a client sends data on a connection counts as one, and
	// after that every time it sends data after having received data from
	// the target since its previous send. A strict request/response
	// exchange of N requests counts N. "Received" means the proxy has
	// written target data to the client's socket, whether or not the
	// client has read it yet. The handshake is counted separately in
	// ConnectRTTs.
	RoundTrips int64
}

// Proxy is a delaying TCP proxy. Set the fields and call [Proxy.Start], or
// use the package function [Start]. The fields must not be changed after
// Start; use [Proxy.SetDelay] to change the delay of a running proxy.
type Proxy struct {
	// Target is the upstream address ("host:port") every connection is
	// forwarded to.
	Target string
	// Delay is the one-way delay added in each direction, so the
	// round-trip time grows by 2*Delay. Zero forwards without delay (the
	// counters still work).
	Delay time.Duration
	// Blackhole makes the proxy accept connections and never forward or
	// answer anything: it does not connect to Target and reads and
	// discards whatever the client sends until the client or the proxy
	// closes the connection. Useful to test timeouts.
	Blackhole bool

	delay   atomic.Int64 // current one-way delay in nanoseconds
	ln      net.Listener
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	started bool

	connections, connectRTTs, bytesUp, bytesDown, roundTrips atomic.Int64
}

// Start starts a proxy to target with the given one-way delay, listening on
// 127.0.0.1 on a free port. The proxy is closed when ctx is done or when
// Close is called.
func Start(ctx context.Context, target string, oneWay time.Duration) (*Proxy, error) {
	p := &Proxy{Target: target, Delay: oneWay}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start starts the proxy: it listens on 127.0.0.1 on a free port (see
// [Proxy.Addr]) and forwards connections to p.Target until ctx is done or
// Close is called. A Proxy can be started only once.
func (p *Proxy) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("latency: proxy already started")
	}
	if p.Target == "" && !p.Blackhole {
		return errors.New("latency: no target")
	}
	if p.Delay < 0 {
		return errors.New("latency: negative delay")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p.started = true
	p.ln = ln
	p.delay.Store(int64(p.Delay))
	p.conns = make(map[net.Conn]struct{})
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
			p.shutdown()
		case <-p.ctx.Done():
		}
	}()
	go p.acceptLoop()
	return nil
}

// Addr returns the address the proxy listens on, "127.0.0.1:port".
func (p *Proxy) Addr() string {
	if p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// SetDelay changes the one-way delay for data read from now on and for
// connections accepted from now on. Data already queued keeps its delay.
func (p *Proxy) SetDelay(oneWay time.Duration) {
	if oneWay < 0 {
		oneWay = 0
	}
	p.delay.Store(int64(oneWay))
}

func (p *Proxy) currentDelay() time.Duration { return time.Duration(p.delay.Load()) }

// Stats returns the counters. The fields are read one by one, so a snapshot
// taken while connections are active may be slightly inconsistent.
func (p *Proxy) Stats() Stats {
	return Stats{
		Connections: p.connections.Load(),
		ConnectRTTs: p.connectRTTs.Load(),
		BytesUp:     p.bytesUp.Load(),
		BytesDown:   p.bytesDown.Load(),
		RoundTrips:  p.roundTrips.Load(),
	}
}

// Reset sets all counters to zero. Open connections are not affected, but
// their next client send counts as a new turn only if it follows data from
// the target, as usual.
func (p *Proxy) Reset() {
	p.connections.Store(0)
	p.connectRTTs.Store(0)
	p.bytesUp.Store(0)
	p.bytesDown.Store(0)
	p.roundTrips.Store(0)
}

// Close stops the listener, closes all connections and waits until every
// goroutine of the proxy has returned. It is idempotent; the error is the
// one from closing the listener the first time.
func (p *Proxy) Close() error {
	err := p.shutdown()
	p.wg.Wait()
	return err
}

// shutdown closes the listener and all connections without waiting.
func (p *Proxy) shutdown() error {
	p.mu.Lock()
	if p.closed || !p.started {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	for c := range conns {
		c.Close()
	}
	return err
}

// track registers c to be closed by Close; it returns false (and closes c)
// if the proxy is already closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (p *Proxy) untrack(c net.Conn) {
	c.Close()
	p.mu.Lock()
	if p.conns != nil {
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: retry.
				if backoff == 0 {
					backoff = 5 * time.Millisecond
				} else if backoff < time.Second {
					backoff *= 2
				}
				select {
				case <-time.After(backoff):
				case <-p.ctx.Done():
					return
				}
				continue
			}
			return
		}
		backoff = 0
		accepted := time.Now()
		p.connections.Add(1)
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go p.handle(c, accepted)
	}
}

// isTemporary reports errors worth retrying Accept for.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// sleepUntil waits until t or until the proxy is closed (returning false).
func (p *Proxy) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return p.ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// handle serves one client connection.
func (p *Proxy) handle(client net.Conn, accepted time.Time) {
	defer p.wg.Done()
	defer p.untrack(client)

	if p.Blackhole {
		buf := make([]byte, chunkSize)
		for {
			if _, err := client.Read(buf); err != nil {
				return
			}
		}
	}

	delay := p.currentDelay()
	d := net.Dialer{Timeout: dialTimeout}
	server, err := d.DialContext(p.ctx, "tcp", p.Target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)

	// Simulated handshake: nothing moves for one round trip.
	p.connectRTTs.Add(1)
	if !p.sleepUntil(accepted.Add(2 * delay)) {
		return
	}

	cs := &connState{aborted: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.forward(client, server, cs, true)
	}()
	go func() {
		defer wg.Done()
		p.forward(server, client, cs, false)
	}()
	wg.Wait()
}

// connState is the per-connection state for round-trip counting and for
// aborting both directions.
type connState struct {
	mu      sync.Mutex
	sent    bool          // the client has sent something
	gotData bool          // the client was sent data since its last send
	aborted chan struct{} // closed (under mu) when the connection fails
}

// chunk is data read at some time, to be written at due. A chunk with eof
// set marks the end of the stream in that direction.
type chunk struct {
	data []byte
	due  time.Time
	eof  bool
}

// forward copies src to dst, delaying every chunk. up is true for the
// client → target direction.
func (p *Proxy) forward(src, dst net.Conn, cs *connState, up bool) {
	abort := func() {
		cs.mu.Lock()
		select {
		case <-cs.aborted:
		default:
			close(cs.aborted)
		}
		cs.mu.Unlock()
		src.Close()
		dst.Close()
	}

	q := make(chan chunk, queueLen)
	p.wg.Add(1)
	go func() { // reader
		defer p.wg.Done()
		defer close(q)
		buf := make([]byte, chunkSize)
		for {
			n, err := src.Read(buf)
			now := time.Now()
			if n > 0 {
				data := make([]byte, n)
				copy(data, buf[:n])
				if up {
					cs.mu.Lock()
					if !cs.sent || cs.gotData {
						p.roundTrips.Add(1)
						cs.sent, cs.gotData = true, false
					}
					cs.mu.Unlock()
				}
				select {
				case q <- chunk{data: data, due: now.Add(p.currentDelay())}:
				case <-cs.aborted:
					return
				}
			}
			if err != nil {
				select {
				case q <- chunk{eof: true, due: now.Add(p.currentDelay())}:
				case <-cs.aborted:
				}
				return
			}
		}
	}()

	for c := range q {
		if !p.sleepUntil(c.due) {
			abort()
			continue // drain until the reader notices
		}
		select {
		case <-cs.aborted:
			continue
		default:
		}
		if c.eof {
			if tc, ok := dst.(*net.TCPConn); ok {
				if tc.CloseWrite() != nil {
					abort()
				}
			} else {
				abort()
			}
			continue
		}
		if !up {
			// Mark before writing: once written, the client may answer
			// before this goroutine runs again.
			cs.mu.Lock()
			cs.gotData = true
			cs.mu.Unlock()
		}
		// Count before writing, for the same reason; take back what
		// could not be written.
		counter := &p.bytesDown
		if up {
			counter = &p.bytesUp
		}
		counter.Add(int64(len(c.data)))
		n, err := dst.Write(c.data)
		if err != nil {
			counter.Add(-int64(len(c.data) - n))
			abort()
		}
	}
}
