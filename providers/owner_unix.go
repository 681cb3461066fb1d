//go:build unix

package providers

import (
	"os"
	"syscall"
)

// ownedByMe reports whether the file is owned by the current user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
