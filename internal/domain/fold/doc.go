// Package fold folds an aggregate's events into its state, for every
// domain package: each state type applies one payload at a time, and Fold
// applies them in order to the zero state.
package fold
