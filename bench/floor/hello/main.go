// Command hello is the start-up of a Go program with nothing linked but
// fmt, the first line of bench/request_logs.sh's start-up floor.
package main

import "fmt"

func main() {
	fmt.Println("v")
}
