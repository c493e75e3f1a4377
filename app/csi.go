// Client State Indication (XEP-0352) for the service: the views say
// whether the person is looking at Parley; every session, now and after
// any reconnect or new login, tells the server, which then holds back
// what is not urgent (presence, typing) while Parley is in the background.
package app

import "sync"

// csiWorker writes the state off the caller's goroutine (a write to a
// stuck connection must not hold the UI), always the latest one.
type csiWorker struct {
	once sync.Once
	wake chan struct{}
}

// SetActive says whether the person is using Parley (the window shown
// and focused) or not (hidden, minimised, or unfocused for a while). It
// returns at once; the sessions are told in the background.
func (s *Service) SetActive(active bool) {
	s.mu.Lock()
	s.inactive = !active
	s.mu.Unlock()
	s.csi.once.Do(func() {
		s.csi.wake = make(chan struct{}, 1)
		go s.tellActive()
	})
	select {
	case s.csi.wake <- struct{}{}:
	default: // a telling is pending: it reads the latest state
	}
}

// tellActive tells the sessions the latest state whenever woken, until
// the service closes.
func (s *Service) tellActive() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.csi.wake:
		}
		s.mu.Lock()
		active := !s.inactive
		sessions := []*session{s.sess, s.pending}
		s.mu.Unlock()
		for _, sess := range sessions {
			if sess != nil {
				sess.client.SetActive(active)
			}
		}
	}
}

// Active reports what SetActive said last (true at first).
func (s *Service) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.inactive
}
