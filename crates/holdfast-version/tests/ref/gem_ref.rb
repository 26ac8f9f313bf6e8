# Reference for RubyGems ordering: Gem::Version#<=>.
# Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E (malformed version).
require "rubygems"

out = []
$stdin.each_line do |line|
  a, b = line.chomp.split("\t", 2)
  begin
    out << (Gem::Version.new(a) <=> Gem::Version.new(b)).to_s
  rescue ArgumentError
    out << "E"
  end
end
$stdout.write(out.map { |l| l + "\n" }.join)
