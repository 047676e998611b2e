package strgen

// Extend returns each prefix followed by every string of one to three
// characters drawn from tail (each prefix alone too), so a matcher is
// asked about every way a short name can go on after the part it knows.
// With n prefixes and k characters in tail that is n·(1+k+k²+k³) strings.
func Extend(prefixes []string, tail string) []string {
	k := len([]rune(tail))
	out := make([]string, 0, len(prefixes)*(1+k+k*k+k*k*k))
	for _, p := range prefixes {
		out = append(out, p)
		for _, a := range tail {
			pa := p + string(a)
			out = append(out, pa)
			for _, b := range tail {
				pab := pa + string(b)
				out = append(out, pab)
				for _, c := range tail {
					out = append(out, pab+string(c))
				}
			}
		}
	}
	return out
}
