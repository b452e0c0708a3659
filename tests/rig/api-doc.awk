# api-doc.awk HEADER...: every function a public header declares has a comment: a declaration
# (a line at column 0 that opens a parameter list, not a typedef or a macro) must follow a
# comment's end or another declaration of the same group, never a blank line or other code.
# Prints FILE:LINE: NAME for each undocumented one; exit 1 if any.
FNR == 1 { prev = ""; cont = 0 }
{
	line = $0
	if (cont) { # a declaration's continuation lines
		if (line ~ /;[ \t]*$/) cont = 0
		prev = "decl"
		next
	}
	if (line ~ /^[A-Za-z_][A-Za-z_0-9 \t\*]*[ \t\*]\(?\*?[a-z_][a-z_0-9]*\(/ && line !~ /^(typedef|struct [a-z_0-9]+ \{|#)/) {
		if (prev != "comment" && prev != "decl") {
			n = line; sub(/\(.*/, "", n); sub(/.*[ \t\*]/, "", n)
			printf "%s:%d: %s has no comment\n", FILENAME, FNR, n
			bad = 1
		}
		if (line !~ /;[ \t]*$/) cont = 1
		prev = "decl"
		next
	}
	if (line ~ /\*\/[ \t]*$/) prev = "comment"
	else if (line ~ /^[ \t]*$/) prev = "blank"
	else if (line ~ /^[ \t]*(\/\*|\*)/) prev = "incomment"
	else prev = "other"
}
END { exit bad }
