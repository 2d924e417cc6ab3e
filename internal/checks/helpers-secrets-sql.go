package checks

import (
	"path"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// sqlOption is the option with which a database client takes statements to run: its short
// form (also with the statement attached, -eSTMT) and its long form (--execute STMT,
// --execute=STMT).
type sqlOption struct {
	short, long string
}

// sqlClients are the database clients that run the SQL (or CQL) statements of their input, and
// of their option's value, with that option: the MySQL and MariaDB clients' -e, --execute
// (MySQL 8.4 Reference Manual, "mysql Client Options"), psql's -c, --command (PostgreSQL 18
// documentation, psql), the SQL Server sqlcmd's -Q and -q (ODBC and go-sqlcmd), Cassandra's
// cqlsh -e, --execute; Oracle's SQL*Plus and SQLcl read their input only (no option). The
// MySQL programs beside the client (mysqldump's -e is --extended-insert) are not among them.
var sqlClients = map[string]sqlOption{
	"mysql": {"-e", "--execute"}, "mariadb": {"-e", "--execute"},
	"psql":    {"-c", "--command"},
	"sqlcmd":  {"-Q", "--query"},
	"cqlsh":   {"-e", "--execute"},
	"sqlplus": {}, "sql": {},
}

// oracleLogonValueOptions are SQL*Plus's options that take the next word as their value (-M
// "HTML ...", -R level, -C version).
var oracleLogonValueOptions = map[string]bool{"-M": true, "-MARKUP": true, "-R": true, "-C": true,
	"-m": true, "-markup": true, "-r": true, "-c": true}

// oracleLogonPassword reads the logon of Oracle's SQL*Plus, SQLcl (sql), Data Pump (expdp,
// impdp) and the original export and import (exp, imp): the first operand,
// USER/PASSWORD[@CONNECT_IDENTIFIER] (SQL*Plus User's Guide, "SQLPLUS Program Syntax"), or a
// USERID=USER/PASSWORD[@...] parameter. It returns the index in args of the word that gives a
// literal password and what says so; -1 when there is none. /nolog, / and /@DB (the operating
// system's authentication), USER alone (a prompt), @SCRIPT and a word with a shell expansion
// give none.
func (r *commandReader) oracleLogonPassword(args []string) (int, string) {
	ops := r.operands(args, oracleLogonValueOptions)
	for n, k := range ops {
		w := strings.Trim(strings.TrimRight(args[k], ";"), `"'`)
		logon, isParam := w, false
		if name, v, ok := strings.Cut(w, "="); ok && strings.EqualFold(name, "userid") {
			logon, isParam = v, true
		} else if n > 0 {
			// The logon is the first operand; the others are a script's arguments.
			continue
		}
		if strings.ContainsAny(args[k], "$`") {
			continue
		}
		if pw, ok := oracleLogon(logon); ok && literalArgument(pw) {
			if isParam {
				return k, "'s USERID gives a password"
			}
			return k, "'s logon USER/PASSWORD gives a password"
		}
	}
	return -1, ""
}

// sqlStatementPassword reads the word args[i] of a database client's (sqlClients) command:
// when it is opt, the option that gives the client statements to run, it returns the index in
// args of the word that holds them if they set a literal password (sqlPassword), and what
// says so; else -1. sqlcmd's -q runs its query as -Q does and stays open.
func sqlStatementPassword(opt sqlOption, args []string, i int) (int, string) {
	w := args[i]
	v, k, flag := "", i, ""
	switch {
	case w == opt.short || w == opt.long || opt.short == "-Q" && w == "-q":
		if i+1 == len(args) {
			return -1, ""
		}
		v, k, flag = args[i+1], i+1, w
	case strings.HasPrefix(w, opt.long+"="):
		v, flag = w[len(opt.long)+1:], opt.long
	case len(w) > 2 && !strings.HasPrefix(w, "--") && (strings.HasPrefix(w, opt.short) || opt.short == "-Q" && strings.HasPrefix(w, "-q")):
		v, flag = w[2:], w[:2]
	default:
		return -1, ""
	}
	text, expands := shellText(v)
	if clause := sqlPassword(text, expands); clause != "" {
		return k, "'s " + flag + " sets a password in SQL (" + clause + ")"
	}
	return -1, ""
}

// shellText is the text a word of a command line gives a program: a shell word in double
// quotes without them (its \", \\, \$ and \` escapes undone) or in single quotes without them
// (or in bash's ANSI-C quotes, $'...', ansiCText), or the word as it is (an argv's argument); and whether a shell may have expanded parameters
// in it (not in single quotes), so that $ or ` in it is no literal text.
func shellText(w string) (string, bool) {
	if text, ok := ansiCText(w); ok {
		// $'...': bash expands nothing in it.
		return text, false
	}
	if t := strings.TrimSuffix(w, ";"); len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`")
		return r.Replace(t[1 : len(t)-1]), true
	}
	if t := strings.TrimSuffix(w, ";"); len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'' && !strings.Contains(t[1:len(t)-1], "'") {
		return t[1 : len(t)-1], false
	}
	return w, true
}

// sqlFile reports whether a ConfigMap's key names a file of SQL or CQL statements (an init
// script mounted into /docker-entrypoint-initdb.d, 01-users.sql, schema.cql; sqlExtensions), or
// a template of one (init.sql.tpl).
func sqlFile(k string) bool {
	lower := strings.ToLower(k)
	if ext := path.Ext(lower); templateExtensions[ext] {
		// init.sql.tpl: a template of an SQL file (its placeholders are no literal).
		lower = strings.TrimSuffix(lower, ext)
	}
	return sqlExtensions[path.Ext(lower)]
}

// sqlStatementWords are the words an SQL init script's first statement starts with: DDL,
// DML, a transaction, a session's settings, SQL*Plus's CONNECT; in any case.
var sqlStatementWords = map[string]bool{"CREATE": true, "ALTER": true, "GRANT": true, "REVOKE": true, "DROP": true,
	"INSERT": true, "UPDATE": true, "DELETE": true, "SELECT": true, "SET": true, "USE": true, "BEGIN": true,
	"START": true, "DO": true, "CONNECT": true, "CONN": true}

// sqlContent reports whether a ConfigMap's key k with value v holds SQL though its name does
// not say so (sqlFile): the key has no extension (init, setup, users: a file psql -f or mysql <
// runs, mounted under the key's name) and its first word, past blank lines and SQL comments (--,
// /* */), starts a statement (sqlStatementWords), or is a psql meta-command (\connect, \c). A
// key with an extension is the file it names (nginx.conf.tpl, README.md), whatever it quotes.
func sqlContent(k, v string) bool {
	if path.Ext(k) != "" {
		return false
	}
	for v != "" {
		v = strings.TrimLeft(v, " \t\r\n")
		switch {
		case strings.HasPrefix(v, "--"):
			_, v, _ = strings.Cut(v, "\n")
			continue
		case strings.HasPrefix(v, "/*"):
			_, v, _ = strings.Cut(v, "*/")
			continue
		}
		end := strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && r != '\\' })
		if end < 0 {
			end = len(v)
		}
		word := v[:end]
		return sqlStatementWords[strings.ToUpper(word)] || word == `\connect` || word == `\c`
	}
	return false
}

// sqlExtensions end the names of files of SQL or CQL statements: .sql and .cql, and the names
// tools and editors give files of one dialect (.psql and .pgsql for PostgreSQL's, .mysql,
// .plsql and .pls for Oracle's PL/SQL, .ddl for schema definitions, .hql for Hive's).
var sqlExtensions = map[string]bool{".sql": true, ".cql": true, ".psql": true, ".pgsql": true, ".mysql": true,
	".plsql": true, ".pls": true, ".ddl": true, ".hql": true}

// templateExtensions end the names of templates, which a tool renders into the file named
// without them (init.sql.tpl, init.sql.j2).
var templateExtensions = map[string]bool{".tpl": true, ".tmpl": true, ".template": true, ".j2": true, ".in": true}

// sqlToken is a token of SQL text: a word (a keyword, identifier or number), a quoted string
// ('...', or "..." which MySQL reads as a string and Oracle as a quoted password), or one byte
// of punctuation.
type sqlToken struct {
	text string
	// quoted: a string; variable: one psql interpolates (:'name', :"name"), no literal.
	quoted, variable bool
	punct            byte
}

// sqlState is what sqlPassword knows of the statement it is in.
type sqlState struct {
	// words is how many words the statement has had, first its first two (upper case).
	words         int
	first, second string
	// userDDL: CREATE or ALTER of a USER, ROLE or LOGIN (within its first five words: CREATE
	// ROLE IF NOT EXISTS, CREATE OR REPLACE USER); setPassword: SET PASSWORD.
	userDDL, setPassword bool
	// expect is what the next token must be for a password (sqlExpect...).
	expect int
	// clause is the clause the expected password is given with.
	clause string
}

const (
	sqlExpectNothing = iota
	// After IDENTIFIED: BY, or WITH and a plugin.
	sqlExpectIdentified
	// After IDENTIFIED WITH: the plugin's name.
	sqlExpectPlugin
	// After IDENTIFIED WITH plugin: BY (a password) or AS (the plugin's hash of one).
	sqlExpectPluginBy
	// After IDENTIFIED BY: the password (a string; Oracle's may be a word), or PASSWORD or
	// VALUES and a hash (MySQL 5's IDENTIFIED BY PASSWORD '*hash', Oracle's IDENTIFIED BY
	// VALUES 'hash'); RANDOM PASSWORD asks the server to make one.
	sqlExpectIdentifiedBy
	// After PASSWORD: the password (PostgreSQL's and Cassandra's PASSWORD 'x'), '=' (SQL
	// Server's and Cassandra's WITH PASSWORD = 'x') or '(' (MySQL 5's PASSWORD('x')).
	sqlExpectPassword
	// After '=' in a statement that sets a password: the password, or MySQL 5's PASSWORD('x').
	sqlExpectEquals
	// After PASSWORD in PASSWORD('x'): '('.
	sqlExpectOpen
	// The password, a string only.
	sqlExpectString
)

// sqlPassword reads SQL (or CQL) statements, and says with which clause one sets a literal
// password, "" when none does: MySQL's and MariaDB's IDENTIFIED BY 'x' (CREATE USER, ALTER
// USER, GRANT ... IDENTIFIED BY; IDENTIFIED WITH plugin BY 'x' or AS 'hash'; IDENTIFIED BY
// PASSWORD 'hash'), SET PASSWORD [FOR user] = 'x' and PASSWORD('x'); PostgreSQL's CREATE or
// ALTER ROLE/USER ... [ENCRYPTED] PASSWORD 'x'; Cassandra's WITH PASSWORD = 'x' and SQL Server's
// CREATE or ALTER LOGIN/USER ... WITH PASSWORD = 'x'; Oracle's IDENTIFIED BY x. A hash a
// statement gives (md5..., SCRAM-SHA-256$..., '*hash') is judged as the password: it is what
// offline guessing recovers a weak one from. No password are a string that holds an expansion
// (expands: the text went through a shell, which put a parameter's value there) or an
// interpolation (${APP_PASSWORD}, which envsubst fills in), psql's variables (:'pw'), PASSWORD
// NULL, IDENTIFIED BY RANDOM PASSWORD, a password column compared or assigned in another
// statement (WHERE password = 'x': the statement must set a user's), psql's \password (a
// prompt), strings and comments (--, #, /* */). PostgreSQL's dollar-quoted strings ($$x$$,
// $tag$x$tag$: dollarQuoteTag) are strings where a password is expected; elsewhere they are
// the bodies of DO blocks and functions, and their statements are read. The text is read once.
func sqlPassword(text string, expands bool) string {
	if sqlPlusConnect(text, expands) {
		return "CONNECT"
	}
	var st sqlState
	for i := 0; i < len(text); {
		c := text[i]
		if n := dollarQuoteTag(text, i, expands); n > 0 {
			tag := text[i : i+n]
			if !st.expectsString() {
				// A body in dollar quotes (DO $$ ... $$, a function's AS $$ ... $$): its
				// statements are read as statements.
				i += n
				continue
			}
			end := strings.Index(text[i+n:], tag)
			if end < 0 {
				return ""
			}
			if clause := st.next(sqlToken{text: text[i+n : i+n+end], quoted: true}, expands); clause != "" {
				return clause
			}
			i += n + end + n
			continue
		}
		var tok sqlToken
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '-' && i+1 < len(text) && text[i+1] == '-', c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
			continue
		case c == '\'' || c == '"' || c == '`':
			var b strings.Builder
			j := i + 1
			for j < len(text) {
				if text[j] == c {
					// A doubled quote is one in the string.
					if j+1 < len(text) && text[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if text[j] == '\\' && c != '`' && j+1 < len(text) {
					j++
				}
				b.WriteByte(text[j])
				j++
			}
			tok = sqlToken{text: b.String(), quoted: c != '`', variable: i > 0 && text[i-1] == ':'}
			i = j + 1
		case isSQLWordChar(c):
			j := i + 1
			for j < len(text) && isSQLWordChar(text[j]) {
				j++
			}
			tok = sqlToken{text: text[i:j]}
			i = j
		default:
			tok = sqlToken{punct: c}
			i++
		}
		if clause := st.next(tok, expands); clause != "" {
			return clause
		}
	}
	return ""
}

// dollarQuoteTag is the length of the tag of PostgreSQL's dollar quote ($$, or $name$ whose
// name is letters, digits and '_' and starts with no digit) that text[i:] starts with, 0 for
// none. Where a shell expanded the text (expands) there is none: the shell put its process ID
// in place of $$ and a parameter's value in place of $name.
func dollarQuoteTag(text string, i int, expands bool) int {
	if expands || text[i] != '$' || i > 0 && isSQLWordChar(text[i-1]) {
		return 0
	}
	j := i + 1
	for j < len(text) && (isASCIIAlnum(text[j]) || text[j] == '_' || text[j] >= 0x80) {
		j++
	}
	if j == len(text) || text[j] != '$' || j > i+1 && text[i+1] >= '0' && text[i+1] <= '9' {
		return 0
	}
	return j + 1 - i
}

// expectsString reports whether the statement's next token is read as a password when it is
// a string.
func (st *sqlState) expectsString() bool {
	switch st.expect {
	case sqlExpectIdentifiedBy, sqlExpectPassword, sqlExpectEquals, sqlExpectString:
		return true
	}
	return false
}

// isSQLWordChar reports whether c may be part of an SQL word (an identifier, keyword or
// number; Oracle's identifiers may hold $ and #).
func isSQLWordChar(c byte) bool {
	return isASCIIAlnum(c) || c == '_' || c == '$' || c >= 0x80
}

// next takes the statement's next token, and returns the clause that gives a literal password
// when tok is one, else "".
func (st *sqlState) next(tok sqlToken, expands bool) string {
	if tok.punct == ';' {
		*st = sqlState{}
		return ""
	}
	word := ""
	if !tok.quoted && tok.punct == 0 {
		word = strings.ToUpper(tok.text)
		st.words++
		switch st.words {
		case 1:
			st.first = word
		case 2:
			st.second = word
			st.setPassword = st.first == "SET" && word == "PASSWORD"
		}
		if st.words <= 5 && (st.first == "CREATE" || st.first == "ALTER") && (word == "USER" || word == "ROLE" || word == "LOGIN") {
			st.userDDL = true
		}
	}
	expect := st.expect
	st.expect = sqlExpectNothing
	switch expect {
	case sqlExpectIdentified:
		switch word {
		case "BY":
			st.expect = sqlExpectIdentifiedBy
		case "WITH":
			st.expect = sqlExpectPlugin
		}
		return ""
	case sqlExpectPlugin:
		if word != "" {
			st.expect = sqlExpectPluginBy
		} else if tok.quoted {
			// IDENTIFIED WITH 'plugin'.
			st.expect = sqlExpectPluginBy
		}
		return ""
	case sqlExpectPluginBy:
		switch word {
		case "BY":
			st.expect, st.clause = sqlExpectString, "IDENTIFIED WITH ... BY"
		case "AS":
			st.expect, st.clause = sqlExpectString, "IDENTIFIED WITH ... AS"
		}
		return ""
	case sqlExpectIdentifiedBy:
		switch {
		case tok.quoted:
			return sqlLiteral(tok, expands, "IDENTIFIED BY")
		case word == "PASSWORD" || word == "VALUES":
			st.expect, st.clause = sqlExpectString, "IDENTIFIED BY "+word
			return ""
		case word == "RANDOM" || word == "":
			return ""
		}
		// Oracle's IDENTIFIED BY password, a word with a letter (not a number, nor a shell's
		// parameter or SQL*Plus's substitution variable).
		if strings.ContainsFunc(word, func(r rune) bool { return r >= 'A' && r <= 'Z' }) && !strings.Contains(word, "$") &&
			credentialValue("", tok.text) {
			return "IDENTIFIED BY"
		}
		return ""
	case sqlExpectPassword:
		switch {
		case tok.quoted:
			return sqlLiteral(tok, expands, "PASSWORD")
		case tok.punct == '=' && (st.userDDL || st.setPassword):
			st.expect, st.clause = sqlExpectEquals, "PASSWORD ="
			return ""
		case tok.punct == '(':
			st.expect, st.clause = sqlExpectString, "PASSWORD()"
			return ""
		}
	case sqlExpectEquals:
		switch {
		case tok.quoted:
			return sqlLiteral(tok, expands, st.clause)
		case word == "PASSWORD":
			st.expect, st.clause = sqlExpectOpen, "PASSWORD()"
		}
		return ""
	case sqlExpectOpen:
		if tok.punct == '(' {
			st.expect = sqlExpectString
		}
		return ""
	case sqlExpectString:
		if tok.quoted {
			return sqlLiteral(tok, expands, st.clause)
		}
		return ""
	}
	switch {
	case word == "IDENTIFIED":
		st.expect = sqlExpectIdentified
	case word == "PASSWORD":
		st.expect = sqlExpectPassword
	case tok.punct == '=' && st.setPassword:
		// SET PASSWORD FOR 'user'@'host' = 'x'.
		st.expect, st.clause = sqlExpectEquals, "SET PASSWORD"
	}
	return ""
}

// sqlLiteral is clause when the string tok gives a literal password, else "": not psql's
// variable, no expansion where the shell expanded (expands), and a literal credential
// (credentialValue: not empty, not an interpolation).
func sqlLiteral(tok sqlToken, expands bool, clause string) string {
	if tok.variable || expands && strings.ContainsAny(tok.text, "$`") || !credentialValue("", tok.text) {
		return ""
	}
	return clause
}

// mongoPasswordPatterns match the MongoDB shell's JavaScript that gives a user's password as a
// string: the pwd field of a user's document (db.createUser({user: ..., pwd: 'x'}),
// db.updateUser(NAME, {pwd: 'x'}), db.runCommand({createUser: NAME, pwd: 'x'})), the new
// password of db.changeUserPassword(NAME, 'x'), and the password of db.auth(NAME, 'x'); the
// string is the first submatch that matched, in double or single quotes. passwordPrompt(), a
// variable or process.env.X are no string.
var mongoPasswordPatterns = sync.OnceValue(func() []mongoPasswordPattern {
	return []mongoPasswordPattern{
		{regexp.MustCompile(`["']?\bpwd["']?\s*:\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')`), "pwd"},
		{regexp.MustCompile(`\bchangeUserPassword\s*\(\s*(?:"[^"\n]*"|'[^'\n]*')\s*,\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')`), "changeUserPassword"},
		{regexp.MustCompile(`\.auth\s*\(\s*(?:"[^"\n]*"|'[^'\n]*')\s*,\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')`), "auth"},
	}
})

// mongoPasswordPattern is one of mongoPasswordPatterns: the clause it names and its pattern.
type mongoPasswordPattern struct {
	re     *regexp.Regexp
	clause string
}

// mongoShellPassword reads the MongoDB shell's JavaScript (mongosh --eval, its input, an init
// script a mongo image runs from /docker-entrypoint-initdb.d/*.js) and says with what it gives
// a literal password (mongoPasswordPatterns), "" when it gives none. Where a shell expanded the
// text (expands), a string with $ or ` in it is no literal.
func mongoShellPassword(js string, expands bool) string {
	if !strings.Contains(js, "pwd") && !strings.Contains(js, "changeUserPassword") && !strings.Contains(js, ".auth") {
		return ""
	}
	for _, p := range mongoPasswordPatterns() {
		for _, m := range p.re.FindAllStringSubmatch(js, -1) {
			v := m[1] + m[2]
			if expands && strings.ContainsAny(v, "$`") {
				continue
			}
			if credentialValue("", v) {
				return p.clause
			}
		}
	}
	return ""
}

// mongoShells are the MongoDB shells, which run the JavaScript of their input and of --eval.
var mongoShells = map[string]bool{"mongosh": true, "mongo": true}

// mongoEvalPassword reads the MongoDB shell's --eval JAVASCRIPT (or --eval=JAVASCRIPT): the
// index in args of the word that gives a literal password (mongoShellPassword), and what says
// so; -1 when there is none.
func (r *commandReader) mongoEvalPassword(args []string) (int, string) {
	for i := range args {
		r.read++
		v, k, ok := longOptionValue(args, i, "--eval")
		if !ok {
			continue
		}
		if text, expands := shellText(v); mongoShellPassword(text, expands) != "" {
			return k, "'s --eval sets a password (" + mongoShellPassword(text, expands) + ")"
		}
	}
	return -1, ""
}

// oracleLogon is the password of an Oracle logon, USER/PASSWORD[@CONNECT_IDENTIFIER]; ok is
// false when it gives none (/, /@DB, USER alone, @SCRIPT).
func oracleLogon(logon string) (string, bool) {
	user, rest, ok := strings.Cut(logon, "/")
	if !ok || user == "" || strings.HasPrefix(user, "@") {
		return "", false
	}
	pw, _, _ := strings.Cut(rest, "@")
	return pw, pw != ""
}

// sqlPlusConnect reports whether a line of text (SQL*Plus's or SQLcl's input, or a script it
// runs) is its CONNECT (CONN) command with a logon that gives a literal password: connect
// system/VALUE@db as sysdba. Where a shell expanded the text (expands), a logon with $ or ` in
// it is none; so are connect / as sysdba and CONNECT BY of a hierarchical query.
func sqlPlusConnect(text string, expands bool) bool {
	if !strings.Contains(strings.ToLower(text), "conn") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "connect") && !strings.EqualFold(f[0], "conn") {
			continue
		}
		logon := strings.Trim(strings.TrimRight(f[1], ";"), `"'`)
		if expands && strings.ContainsAny(logon, "$`") {
			continue
		}
		if pw, ok := oracleLogon(logon); ok && credentialValue("", strings.Trim(pw, `"`)) {
			return true
		}
	}
	return false
}
