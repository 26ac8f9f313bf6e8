#!/usr/bin/env bash
# Reference for dpkg ordering: dpkg --compare-versions itself.
# Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (dpkg refused).
while IFS=$'\t' read -r a b; do
    if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then
        echo -1
    elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then
        echo 0
    elif dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then
        echo 1
    else
        echo E
    fi
done
