package extapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/graph"
)

// Clock is the server's virtual clock (--clock virtual): time travel.
type Clock interface {
	Now() time.Time
	Offset() time.Duration
	// Jump moves the clock forward by d, firing every timer due on the
	// way, and returns the time reached.
	Jump(d time.Duration) time.Time
}

// MaxJump bounds one jump: a year. Longer ones can be made in steps.
const MaxJump = 366 * 24 * time.Hour

type clockView struct {
	Now     string `json:"now"`
	Virtual bool   `json:"virtual"`
	Offset  string `json:"offset"`
}

func (a *api) clockView() clockView {
	c := a.cfg.Sim.Clock
	if c == nil {
		return clockView{Now: time.Now().UTC().Format(time.RFC3339Nano), Offset: "0s"}
	}
	return clockView{Now: c.Now().UTC().Format(time.RFC3339Nano), Virtual: true, Offset: c.Offset().String()}
}

// GET /switchboard/v1/simulation/clock: the server's time, and whether it
// travels.
func (a *api) getClock(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	return writeJSON(w, http.StatusOK, a.clockView())
}

// POST /switchboard/v1/simulation/clock {"advance":"45m"}: time jumps
// forward, and every timer due on the way fires, in order. It moves every
// tenant's calls: it needs Switchboard.Operator.
func (a *api) advanceClock(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !p.Has(auth.RoleOperator) {
		return graph.NewError(http.StatusForbidden, "Forbidden", "Moving the server's clock moves every tenant's calls: it needs Switchboard.Operator.")
	}
	if a.cfg.Sim.Clock == nil {
		return graph.NewError(http.StatusConflict, "Conflict", "The server runs on the real clock: start it with --clock virtual (development mode) to travel in time.")
	}
	var req struct {
		Advance string `json:"advance"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	d, err := time.ParseDuration(strings.TrimPrefix(req.Advance, "+"))
	switch {
	case req.Advance == "":
		return graph.BadRequest("advance", "'advance' is required: a duration such as 45m or 1h30m.")
	case err != nil:
		return graph.BadRequest("advance", fmt.Sprintf("'advance' must be a duration such as 45m or 1h30m, not %q.", req.Advance))
	case d <= 0:
		return graph.BadRequest("advance", "'advance' must be positive: time only moves forward.")
	case d > MaxJump:
		return graph.BadRequest("advance", fmt.Sprintf("'advance' may be at most %v; jump in steps.", MaxJump))
	}
	start := time.Now()
	a.cfg.Sim.Clock.Jump(d)
	a.log.Info("extapi: the clock jumped", "by", d, "took", time.Since(start))
	return writeJSON(w, http.StatusOK, a.clockView())
}
