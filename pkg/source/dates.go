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
	// Digits as bytes: one below '0' wraps above 9.
	y0, y1, y2, y3 := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	m0, m1, d0, d1 := s[5]-'0', s[6]-'0', s[8]-'0', s[9]-'0'
	if y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 {
		return license.ParseDate(string(s))
	}
	y := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	m := int(m0)*10 + int(m1)
	d := int(d0)*10 + int(d1)
	if m < 1 || m > 12 || d < 1 {
		return license.ParseDate(string(s))
	}
	if i := y - firstTableYear; uint(i) < uint(len(yearStart)-1) {
		// 1 in a leap year: an index rather than a branch, which years
		// mixed in a report would mispredict.
		leap := (yearStart[i+1] - yearStart[i] - 365) & 1
		if d > int(monthDays[leap][m]) {
			return license.ParseDate(string(s))
		}
		return license.Date(int(yearStart[i]) + int(monthStart[leap][m]) + d - 1), nil
	}
	if d > daysIn(m, y) {
		return license.ParseDate(string(s))
	}
	return license.Date(daysFromCivil(y, m, d)), nil
}

// firstTableYear is the first year of yearStart, whose last entry is the
// end of the last year it covers: 1970 to 2099, every year a report or an
// assignment falls in.
const firstTableYear = 1970

// yearStart[i] is the day number of 1 January of firstTableYear+i: a table
// look-up instead of the calendar arithmetic of daysFromCivil, which was a
// third of reading a date, and a report carries a dozen a row.
var yearStart = func() (t [131]int32) {
	for i := range t {
		t[i] = int32(daysFromCivil(firstTableYear+i, 1, 1))
	}
	return t
}()

// monthStart and monthDays are, for months 1–12 of a common year [0] and
// a leap year [1], the days before the month and in it.
var (
	monthStart = [2][13]int16{
		{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334},
		{0, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335},
	}
	monthDays = [2][13]int8{
		{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
		{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
	}
)

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
