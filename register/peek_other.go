//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package register

import "net"

// socketPending cannot tell on this system; see peek_unix.go.
func socketPending(net.Conn) (pending, ok bool) { return false, false }
