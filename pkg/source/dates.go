package source

import "github.com/licenseinsights/licenseinsights/pkg/license"

// parseDate reads a YYYY-MM-DD date exactly as license.ParseDate does, an
// empty string being NoDate, but without time.Parse for the common shape:
// a report carries a dozen dates a row, and time.Parse was half the cost of
// a row. Anything that is not eight digits in that shape, or not a real
// calendar day, goes to license.ParseDate, which gives the error. It reads
// bytes too, so that a CSV field is read where it lies, without a string
// being made of it.
func parseDate[S ~string | ~[]byte](s S) (license.Date, error) {
	if len(s) == 0 { // most activity cells of a report
		return license.NoDate, nil
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return license.ParseDate(string(s))
	}
	var v [8]int
	for i, j := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		c := s[j]
		if c < '0' || c > '9' {
			return license.ParseDate(string(s))
		}
		v[i] = int(c - '0')
	}
	y := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	m := v[4]*10 + v[5]
	d := v[6]*10 + v[7]
	if m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return license.ParseDate(string(s))
	}
	return license.Date(daysFromCivil(y, m, d)), nil
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts the days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (H. Hinnant's days_from_civil), for years 0–9999.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
