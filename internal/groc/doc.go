// Package groc reads App Engine cron schedules ("every 5 minutes",
// "every monday 09:00", "1st,3rd tuesday of sep,oct 17:00", "every 2 hours
// from 10:00 to 14:00", "every 1 hours synchronized" …) and computes when a
// schedule next runs.
//
// The grammar and the run-time arithmetic follow the App Engine SDK's
// googlecron/groc.py (an ANTLR grammar) and groctimespecification.py, so a
// schedule that the SDK refuses is refused here and the next run times are
// the ones the SDK computes, daylight-saving transitions included. Two
// deliberate differences, both from the newer copy of the same code in the
// App Engine SDK proper: the schedule is read case-insensitively, and an
// interval whose range spans a 25-hour day counts that day's seconds
// correctly (the Cloud SDK copy counts a whole day as 1440 seconds there).
package groc
