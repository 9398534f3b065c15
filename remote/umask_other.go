//go:build !unix

package remote

func umask(m int) int { return 0 }
