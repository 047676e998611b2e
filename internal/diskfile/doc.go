// Package diskfile opens files on disk for the paths that open thousands of
// them (a deploy reads and stores every file of an app). os.Open and
// os.OpenFile try to register every file with the runtime's network poller,
// which refuses regular files, and set and clear O_NONBLOCK around the
// attempt: four fcntl calls and one epoll_ctl per open on Linux. On a
// virtual machine a system call costs microseconds, and a first deploy of
// 5,000 files made 80,000 of them. The files opened here are plain
// blocking descriptors, as os.NewFile makes them.
package diskfile
