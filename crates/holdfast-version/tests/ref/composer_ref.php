<?php
// Reference for Composer ordering: composer/semver's VersionParser::normalize
// (Debian's php-composer-semver) followed by PHP's version_compare, as
// Composer's Comparator does on normalised versions.
// Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (invalid version,
// or a named dev- branch, which has no order).
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\VersionParser;

$parser = new VersionParser();
$normalize = function ($v) use ($parser) {
    try {
        $n = $parser->normalize($v);
    } catch (\UnexpectedValueException $e) {
        return null;
    }
    return strncmp($n, 'dev-', 4) === 0 ? null : $n;
};
$out = '';
while (($line = fgets(STDIN)) !== false) {
    $parts = explode("\t", rtrim($line, "\n"), 2);
    $a = $normalize($parts[0]);
    $b = $normalize($parts[1]);
    $out .= ($a === null || $b === null) ? "E\n" : version_compare($a, $b) . "\n";
}
echo $out;
