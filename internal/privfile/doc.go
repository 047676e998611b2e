// Package privfile keeps the files appcfg writes for its user alone: the
// local store's database, the bulk loader's progress database and the
// caches hold request logs (query strings with tokens), entities and
// credentials, so they are readable and writable by their owner only
// (files 0600, directories 0700), whatever the umask and whether or not
// their directory already existed.
package privfile
