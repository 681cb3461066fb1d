//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package register

import (
	"net"
	"syscall"
)

// socketPending reports whether the socket under nc has data (or the end
// of the stream) waiting to be read, without reading it and without
// waiting: a recv with MSG_PEEK and MSG_DONTWAIT. ok is false when nc has
// no socket to ask (a proxy connection, a pipe) or the call fails.
func socketPending(nc net.Conn) (pending, ok bool) {
	sc, isSocket := nc.(syscall.Conn)
	if !isSocket {
		return false, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for the socket to become readable
	})
	switch {
	case err != nil:
		return false, false
	case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK:
		return false, true
	case rerr != nil:
		return false, false
	}
	// Data, or 0 bytes: the peer closed its side.
	return true, true
}
