
function __knocktool_complete
    set -l tokens (commandline -poc)
    set -l current (commandline -ct)

    # commandline -poc decodes previous tokens, but commandline -ct returns
    # the current token as typed.  Decode its quotes and escapes as well.
    # Keep the token as typed if decoding fails or yields a newline or tab,
    # which completion output cannot carry.
    set -l __raw_current "$current"
    set -l __decoded (string unescape -- "$current")
    or begin
        # string unescape rejects an unfinished trailing backslash.  fish
        # keeps it literally inside single quotes, which also keep a " as
        # is, and otherwise waits for the character it escapes.
        set -l __prefix (string replace -r '\\\\$' '' -- "$current")
        set -l __probe (string unescape -- "$__prefix\"")
        set -l __plain (string unescape -- "$__prefix")
        if test "$__probe" = "$__plain\""
            set __decoded (string unescape -- "$current\\")
        else
            set __decoded (string unescape -- "$__prefix")
        end
    end
    and test (count $__decoded) -eq 1
    and not string match -qr '\t' -- "$__decoded"
    and set current "$__decoded"

    # Extract previous arguments (skip the command name)
    set -l prev
    set -l count (count $tokens)
    if test $count -gt 1
        set prev $tokens[2..$count]
    end

    # Call completion command and capture output
    set -l output (knocktool 'completion' 'fish' $prev $current 2>/dev/null)

    # Process each line of output
    for line in $output
        set -l literal 0
        if string match -q '__LITERAL__:*' -- $line
            set line (string sub -s 13 -- $line)
            set literal 1
        end
        if test $literal -eq 0; and string match -q '__FILE__:*' -- $line
            # Parse file completion directive: __FILE__:type:extensions:pattern:hidden
            set -l directive (string split \t -- $line)[1]
            set -l parts (string split ':' -- $directive)
            set -l type $parts[2]
            set -l extensions $parts[3]
            set -l pattern (string replace -a '%25' '%' -- (string replace -a '%3A' ':' -- $parts[4]))
            set -l hidden $parts[5]
            set -l insertion_prefix ""
            if test (count $parts) -ge 6
                set insertion_prefix (string replace -a '%25' '%' -- (string replace -a '%3A' ':' -- $parts[6]))
            end
            set -l saved_current "$current"
            set -l saved_raw_current "$__raw_current"
            set -l prefix_length (string length -- "$insertion_prefix")
            if test $prefix_length -gt 0
                and test (string sub -l $prefix_length -- "$pattern") = "$insertion_prefix"
                and test (string sub -l $prefix_length -- "$current") = "$insertion_prefix"
                set -l start (math $prefix_length + 1)
                set pattern (string sub -s $start -- "$pattern")
                set current (string sub -s $start -- "$current")
                # Keep the raw word aligned so an unquoted key is not mistaken
                # for quoting when comparing it with the decoded value.
                if test (string sub -l $prefix_length -- "$__raw_current") = "$insertion_prefix"
                    set __raw_current (string sub -s $start -- "$__raw_current")
                end
            else
                set insertion_prefix ""
            end

            # path() echoes the current word as its pattern.  When that word
            # was quoted or escaped, treat the echo as the typed word rather
            # than as a pattern from the program.
            if test "$current" != "$__raw_current"; and test "$pattern" = "$current"
                set pattern ""
            end

            # When a pattern is specified, use it as the glob base instead
            # of the current word.  If the user has already typed beyond the
            # pattern (e.g., pattern="src/" and current="src/ma"), keep the
            # current word for incremental narrowing.
            set -l glob_base $current
            set -l __tilde_prefix ""
            set -l __from_pattern 0
            if test -n "$pattern"
                # Normalize leading ./ so that ./src/ma matches pattern src/
                set -l __norm_current (string replace -r '^\./' '' -- "$current")
                set -l __norm_pattern (string replace -r '^\./' '' -- "$pattern")
                # For wildcard patterns, compare only the directory prefix.
                # Use a regex: fish wildcards have no character classes.
                # Only the basename can hold wildcards; a ? or * in a
                # directory name such as What?/ is literal.
                set -l __compare_pattern "$__norm_pattern"
                if string match -qr '[*?][^/]*$' -- "$__compare_pattern"
                    set __compare_pattern (string replace -r '[^/]*$' '' -- "$__compare_pattern")
                end
                set -l __cp_len (string length -- "$__compare_pattern")
                set -l __nc_len (string length -- "$__norm_current")
                if begin; test -n "$__compare_pattern"; or test -n "$__norm_current"; end
                    and test $__nc_len -ge $__cp_len
                    and test (string sub -l $__cp_len -- "$__norm_current") = "$__compare_pattern"
                    and test "$current" != "$pattern"
                    set glob_base $current
                else
                    set glob_base $pattern
                    set __from_pattern 1
                end
            end

            # Expand tilde prefix for globbing — fish does not expand ~
            # inside variable substitutions, so replace it with $HOME.  Like
            # fish itself, keep a quoted or escaped tilde in the word literal.
            if test $__from_pattern -eq 1; or string match -q '~*' -- "$__raw_current"
                if string match -q '~/*' -- "$glob_base"
                    set __tilde_prefix "~"
                    set glob_base (string replace -r '^~' "$HOME" -- "$glob_base")
                else if string match -q '~' -- "$glob_base"
                    set __tilde_prefix "~"
                    set glob_base "$HOME/"
                end
            end

            # If the glob base is a directory without a trailing slash,
            # append one so that the glob enumerates its contents
            if test -d "$glob_base"; and not string match -q '*/' -- "$glob_base"
                set glob_base "$glob_base/"
            end

            # Pre-expand file candidates.  When the glob base came from
            # the program's pattern and its basename contains * or ?, use
            # it as the complete glob expression.  Otherwise append * as a
            # prefix, so a literal ? in a directory name such as What?/
            # still lists that directory.  A pattern equal to the current
            # word is the typed text echoed back (as path() does), so its
            # ? and * are literal characters, not wildcards.
            # Note: [ is NOT treated as a glob because it commonly
            # appears in literal filenames like [draft] or foo[1].txt.
            set -l __has_glob 0
            if test $__from_pattern -eq 1
                and string match -qr '[*?][^/]*$' -- "$glob_base"
                and test "$pattern" != "$current"
                set __has_glob 1
            end
            set -l __candidates
            if test $__has_glob -eq 1
                # Safe glob expansion without eval: split the pattern into
                # a directory prefix and a basename filter, list the
                # directory, then match basenames against a regex built
                # from the filter.  The prefix keeps one empty element for
                # bare patterns so that $__glob_prefix* still expands.
                set -l __glob_prefix ""
                if string match -q '*/*' -- "$glob_base"
                    set __glob_prefix (string replace -r '[^/]*$' '' -- "$glob_base")
                end
                set -l __glob_filter (string replace -r '.*/' '' -- "$glob_base")
                # Translate the filter into an anchored regex: * and ? are
                # wildcards and every other character is literal.  Fish's
                # own wildcards cannot be used here because ? is literal
                # when the qmark-noglob feature is enabled (fish 4 default).
                set -l __glob_regex '^'
                for __ch in (string split '' -- "$__glob_filter")
                    if test "$__ch" = '*'
                        set __glob_regex "$__glob_regex.*"
                    else if test "$__ch" = '?'
                        set __glob_regex "$__glob_regex."
                    else
                        set __glob_regex "$__glob_regex"(string escape --style=regex -- "$__ch")
                    end
                end
                set __glob_regex "$__glob_regex"'$'
                # Match files by the glob filter.  Fish's * does not match
                # dotfiles, so also scan .* when the filter targets them or
                # hidden files are requested.
                set -l __entries $__glob_prefix*
                if test "$hidden" = "1"; or string match -q '.*' -- "$__glob_filter"
                    set -a __entries $__glob_prefix.*
                end
                for __item in $__entries
                    if test -e "$__item"
                        set -l __bn (string replace -r '.*/' '' -- "$__item")
                        if contains -- "$__bn" . ..
                            continue
                        end
                        if string match -qr -- "$__glob_regex" "$__bn"
                            set -a __candidates "$__item"
                        end
                    end
                end
                # For file/any modes, also include directories for navigation.
                # Skip for directory mode so the pattern filter is respected.
                # Directories the filter already matched are not repeated.
                if test "$type" != "directory"
                    set -l __nav_dirs $__glob_prefix*/
                    if test "$hidden" = "1"
                        set -a __nav_dirs $__glob_prefix.*/
                    end
                    for __item in $__nav_dirs
                        set __item (string replace -r '/$' '' -- "$__item")
                        set -l __bn (string replace -r '.*/' '' -- "$__item")
                        if contains -- "$__bn" . ..
                            continue
                        end
                        if test -d "$__item"
                            and not string match -qr -- "$__glob_regex" "$__bn"
                            set -a __candidates "$__item"
                        end
                    end
                end
            else
                set __candidates $glob_base*
            end

            # Generate file completions based on type
            set -l items
            switch $type
                case file
                    # Complete files and directories (directories for navigation)
                    for item in $__candidates
                        if test -d $item
                            set -a items $item/
                        else if test -f $item
                            set -a items $item
                        end
                    end
                    # Fish's * glob does not match dotfiles; add them
                    # explicitly when the basename is empty (i.e., $glob_base
                    # is "" or ends with "/"), because only then are * and
                    # .* complementary.  When a non-empty basename is present
                    # (e.g., "foo"), foo* already covers foo.txt, so foo.*
                    # would just produce duplicates.
                    if test "$hidden" = "1" -a $__has_glob -eq 0
                        if test -z "$glob_base"; or string match -q '*/' -- "$glob_base"
                            for item in $glob_base.*
                                if test -d $item
                                    set -a items $item/
                                else if test -f $item
                                    set -a items $item
                                end
                            end
                        end
                    end
                case directory
                    # Complete directories only
                    for item in $__candidates
                        if test -d $item
                            set -a items $item/
                        end
                    end
                    if test "$hidden" = "1" -a $__has_glob -eq 0
                        if test -z "$glob_base"; or string match -q '*/' -- "$glob_base"
                            for item in $glob_base.*
                                if test -d $item
                                    set -a items $item/
                                end
                            end
                        end
                    end
                case any
                    # Complete both files and directories
                    for item in $__candidates
                        if test -d $item
                            set -a items $item/
                        else if test -f $item
                            set -a items $item
                        end
                    end
                    if test "$hidden" = "1" -a $__has_glob -eq 0
                        if test -z "$glob_base"; or string match -q '*/' -- "$glob_base"
                            for item in $glob_base.*
                                if test -d $item
                                    set -a items $item/
                                else if test -f $item
                                    set -a items $item
                                end
                            end
                        end
                    end
            end

            # Filter by extensions if specified
            if test -n "$extensions" -a "$type" != directory
                set -l filtered
                set -l ext_list (string replace -r '^\.' '' -- (string split ',' -- $extensions))
                for item in $items
                    # Skip directories, they don't have extensions
                    if string match -q '*/' -- $item
                        set -a filtered $item
                        continue
                    end
                    # Check if file matches any extension
                    for ext in $ext_list
                        if string match -q "*.$ext" -- $item
                            set -a filtered $item
                            break
                        end
                    end
                end
                set items $filtered
            end

            # Filter out hidden files unless requested.
            # Check the basename of glob_base so that patterns like
            # "src/.e" correctly target hidden entries.
            set -l __glob_basename (string replace -r '.*/(.*)' '$1' -- $glob_base)
            if test "$hidden" != "1" -a (string sub -l 1 -- $__glob_basename) != "."
                set -l filtered
                for item in $items
                    set -l basename (basename -- "$item")
                    if not string match -q '.*' -- $basename
                        set -a filtered $item
                    end
                end
                set items $filtered
            end

            # Restore tilde prefix in completion results
            if test -n "$__tilde_prefix"
                set -l restored
                for item in $items
                    set -a restored (string replace "$HOME" "~" -- $item)
                end
                set items $restored
            end

            # Output file completions.  Use printf rather than echo, which
            # would take filenames like -n or -e as its own options.
            for item in $items
                printf '%s\n' "$insertion_prefix$item"
            end
            set current "$saved_current"
            set __raw_current "$saved_raw_current"
        else
            # Regular literal completion - split by tab
            set -l parts (string split \t -- $line)
            if test (count $parts) -ge 2
                # value	description format
                echo $parts[1]\t$parts[2]
            else
                # Just value
                echo $line
            end
        end
    end
end

complete -c knocktool -f -a '(__knocktool_complete)'
    
