// Work off the UI goroutine: the views never read or write the history or
// the network there. These helpers start such work on a goroutine and
// apply its result on the UI goroutine through a view's do (fyne.Do, or a
// version that drops the result once the view has stopped).
package views

// inBackground runs work off the UI goroutine, then apply with its result
// on the UI goroutine, through do.
func inBackground[T any](do func(func()), work func() (T, error), apply func(T, error)) {
	go func() {
		v, err := work()
		do(func() { apply(v, err) })
	}()
}

// inBackgroundErr is inBackground for work with no result: apply (nil:
// nothing to show) gets its error, nil when it went well.
func inBackgroundErr(do func(func()), work func() error, apply func(error)) {
	go func() {
		err := work()
		if apply != nil {
			do(func() { apply(err) })
		}
	}()
}
