//go:build unix

// The instance lock on Unix: flock, which the kernel frees when the
// process ends, however it ends.
package instance

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock takes f's exclusive lock without waiting (ErrRunning if held).
func tryLock(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return ErrRunning
		}
		return fmt.Errorf("take the instance lock: %w", err)
	}
	return nil
}
