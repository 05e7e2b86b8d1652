package extapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/faults"
	"github.com/switchboard-dev/switchboard/internal/graph"
)

// faultSet returns the server's fault rules, if p may change them: they
// match any application, so they need Switchboard.Operator.
func (a *api) faultSet(p auth.Principal) (*faults.Set, error) {
	if !p.Has(auth.RoleOperator) {
		return nil, graph.NewError(http.StatusForbidden, "Forbidden", "Fault rules reach every application: they need Switchboard.Operator.")
	}
	if a.cfg.Sim.Faults == nil {
		return nil, graph.NewError(http.StatusConflict, "Conflict", "Faults on demand are for development mode only (--dev).")
	}
	return a.cfg.Sim.Faults, nil
}

// GET /switchboard/v1/simulation/faults: the rules, with how often each
// was applied.
func (a *api) listFaults(w http.ResponseWriter, _ *http.Request, p auth.Principal) error {
	set, err := a.faultSet(p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"value": set.List()})
}

// PUT /switchboard/v1/simulation/faults/{id}: add or replace a rule.
func (a *api) putFault(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	set, err := a.faultSet(p)
	if err != nil {
		return err
	}
	var rule faults.Rule
	if err := decode(w, r, &rule); err != nil {
		return err
	}
	rule.ID = r.PathValue("id")
	if err := set.Put(rule); err != nil {
		return graph.BadRequest("", "The fault rule is not valid: "+err.Error()+".")
	}
	a.log.Info("extapi: fault rule set", "rule", rule.ID, "status", rule.Effect.Status, "app", rule.Match.App, "path", rule.Match.Path)
	return writeJSON(w, http.StatusOK, rule)
}

// DELETE /switchboard/v1/simulation/faults/{id}
func (a *api) deleteFault(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	set, err := a.faultSet(p)
	if err != nil {
		return err
	}
	if !set.Delete(r.PathValue("id")) {
		return graph.NewError(http.StatusNotFound, "itemNotFound", "No fault rule has this id.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
