package app

import (
	"context"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// notificationLog is the store's notification log, as the extension API
// reads it.
type notificationLog interface {
	Notifications(ctx context.Context, callID string, fromSeq int64, limit int) ([]notify.Entry, error)
}

// loadDelivery returns a notify.Config.Load that reads an outbox row back
// from the notification log, so that queued replays hold no bodies. A row
// that is gone (its call was deleted by the retention sweep) is an error.
func loadDelivery(log notificationLog) func(ctx context.Context, callID string, seq int64) (notify.Delivery, error) {
	return func(ctx context.Context, callID string, seq int64) (notify.Delivery, error) {
		es, err := log.Notifications(ctx, callID, seq, 1)
		if err != nil {
			return notify.Delivery{}, err
		}
		if len(es) == 0 || es[0].Seq != seq {
			return notify.Delivery{}, fmt.Errorf("app: notification %s/%d is no longer stored", callID, seq)
		}
		return es[0].Delivery, nil
	}
}
