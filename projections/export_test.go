package projections

// OnWait makes r call f whenever a WaitFor or WaitSettled call is about to
// block. Set it before the runner is used.
func OnWait(r *Runner, f func(name string)) { r.onWait = f }

// OnSwitch makes r call f after every attempt to switch projection name to
// its pending build (err nil: switched). Set it before the runner is used.
func OnSwitch(r *Runner, f func(name string, err error)) { r.onSwitch = f }
