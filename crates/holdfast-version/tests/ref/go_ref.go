// Reference for Go module version ordering: golang.org/x/mod/semver, from
// Debian's golang-golang-x-mod-dev, built in GOPATH mode
// (GO111MODULE=off GOPATH=/usr/share/gocode).
//
// Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (invalid version).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		parts := strings.SplitN(in.Text(), "\t", 2)
		if len(parts) != 2 || !semver.IsValid(parts[0]) || !semver.IsValid(parts[1]) {
			fmt.Fprintln(out, "E")
			continue
		}
		fmt.Fprintln(out, semver.Compare(parts[0], parts[1]))
	}
}
