//go:build unix

package remote

import "syscall"

// umask sets the process's file mode mask and returns the old one, so that
// the socket is never, even for an instant, open to other users.
func umask(m int) int { return syscall.Umask(m) }
