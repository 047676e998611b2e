package main

import _ "example.com/sub/lib"

func main() {}
