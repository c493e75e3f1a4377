// Delivery state of outgoing messages and the outbox: queued -> sent (the
// server acked it, XEP-0198) -> delivered (XEP-0184 receipt) -> read
// (XEP-0333 displayed marker), or failed with the error. State only moves
// forward (CanTransition); the outbox is every message still queued.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetState moves outgoing message id to state st (with errText for
// StateFailed). changed is false when the move is not allowed (it would go
// backwards: a late ack after the receipt) or the message is unknown or
// incoming. StateRead also marks read the earlier outgoing messages of the
// conversation that were sent or delivered: a displayed marker covers
// everything before it.
func (s *Store) SetState(ctx context.Context, id int64, st State, errText string) (changed bool, err error) {
	err = s.do(ctx, func(t *wtx) error {
		changed, err = t.setStateRow(id, st, errText)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set state of message %d to %s: %w", id, st, err)
	}
	return changed, nil
}

// SetStateByMessageID is SetState for the outgoing message to peer whose
// origin-id or id attribute is msgID: what receipts, markers and error
// replies name.
func (s *Store) SetStateByMessageID(ctx context.Context, peer, msgID string, st State, errText string) (changed bool, err error) {
	err = s.do(ctx, func(t *wtx) error {
		var conv, id int64
		err := t.queryRow("convByPeer", peer).Scan(&conv)
		if err == nil {
			err = t.queryRow("byOriginID", conv, Out, msgID).Scan(&id, new(State))
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = t.queryRow("byMessageID", conv, Out, msgID).Scan(&id, new(State))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		changed, err = t.setStateRow(id, st, errText)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set state of message %s to %s: %w", msgID, st, err)
	}
	return changed, nil
}

// Requeue puts a failed message back in the outbox (the user asked to retry).
func (s *Store) Requeue(ctx context.Context, id int64) (changed bool, err error) {
	err = s.do(ctx, func(t *wtx) (err error) {
		changed, err = t.execChanged("requeue", id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("requeue message %d: %w", id, err)
	}
	return changed, nil
}

// setStateRow applies CanTransition and, for StateRead, the earlier messages.
func (t *wtx) setStateRow(id int64, st State, errText string) (bool, error) {
	var (
		cur    State
		dir    Direction
		conv   int64
		msgTS  int64
		stored = errText
	)
	err := t.queryRow("stateOf", id).Scan(&cur, &dir, &conv, &msgTS)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stateOf: %w", err)
	}
	if dir != Out || !CanTransition(cur, st) {
		return false, nil
	}
	if st != StateFailed {
		stored = ""
	}
	if _, err := t.exec("setState", id, st, stored); err != nil {
		return false, err
	}
	if st == StateRead {
		if _, err := t.exec("readBefore", conv, msgTS, id); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Outbox returns the outgoing messages still queued, oldest first: after a
// restart or reconnect they are sent again, with their stored origin-id and
// id so the peer and the archive can recognise a copy.
func (s *Store) Outbox(ctx context.Context) ([]Message, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+messageCols+`, c.peer FROM messages m
		JOIN conversations c ON c.id = m.conversation_id
		WHERE m.state = 1 ORDER BY m.id`)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	msgs, err := scanMessages(rows, "")
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return msgs, nil
}
