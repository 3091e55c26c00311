package portfoliogen

import (
	"strconv"
	"strings"
)

// Company names are built from Microsoft's own fictitious sample companies,
// an optional line of business and a legal form, so that a portfolio of a few
// thousand customers reads like a real one ("Contoso Logistics Ltd",
// "Fabrikam Inc"). Past the last combination a number is added.
var (
	companyStems = []string{
		"Contoso", "Fabrikam", "Northwind", "Tailspin", "Woodgrove", "Litware",
		"Adventure Works", "Wingtip", "Alpine Ski House", "Coho Winery",
		"Proseware", "Lucerne Publishing", "Margie's Travel", "Trey Research",
		"Fourth Coffee", "Blue Yonder", "Humongous Insurance", "Wide World Importers",
		"Relecloud", "VanArsdel", "Munson's Pickles", "A. Datum", "Southridge Video",
		"Consolidated Messenger", "Best For You Organics", "First Up Consultants",
		"Bellows College", "Nod Publishers", "Tailwind Traders", "City Power & Light",
		"Graphic Design Institute", "Lamna Healthcare", "Liberty's Delightful Sinful Bakery",
		"Northwind Traders", "Olympia", "Wingtip Toys", "Woodgrove Bank", "Zava",
		"Hexa Industries", "Cronus",
	}
	companyTrades = []string{
		"", "Consulting", "Logistics", "Pharmaceuticals", "Engineering", "Foods",
		"Energy", "Media", "Health", "Legal", "Retail", "Construction", "Finance",
		"Travel", "Manufacturing", "Software",
	}
	companyForms = []string{"Inc", "Ltd", "GmbH", "LLC", "Group", "SA", "BV", "AB", "Pty Ltd", "plc"}
)

// companyName is the name, id and e-mail domain of the customer with the
// given combination number (any non-negative number; combinations repeat with
// a number added).
func companyName(n int) (name, id, domain string) {
	total := len(companyStems) * len(companyTrades) * len(companyForms)
	round, k := n/total, n%total
	stem := companyStems[k%len(companyStems)]
	k /= len(companyStems)
	trade := companyTrades[k%len(companyTrades)]
	form := companyForms[k/len(companyTrades)]

	parts := []string{stem}
	if trade != "" {
		parts = append(parts, trade)
	}
	parts = append(parts, form)
	if round > 0 {
		parts = append(parts, strconv.Itoa(round+1))
	}
	name = strings.Join(parts, " ")
	id = slug(name, "-")
	domain = slug(stem+" "+trade, "")
	if round > 0 {
		domain += strconv.Itoa(round + 1)
	}
	return name, id, domain + ".com"
}

// slug is s in lower-case ASCII letters and digits, words joined by sep.
func slug(s, sep string) string {
	var b strings.Builder
	pending := false
	for _, r := range fold(s) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r == '\'' || r == '.':
			continue // "Margie's" is one word, "A. Datum" is "adatum"
		default:
			pending = b.Len() > 0
			continue
		}
		if pending {
			b.WriteString(sep)
			pending = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fold replaces the accented letters the name lists use by plain ones, for
// user names and domains.
func fold(s string) string {
	return accentFolder.Replace(s)
}

var accentFolder = strings.NewReplacer(
	"é", "e", "è", "e", "ë", "e", "á", "a", "å", "a", "ä", "a", "ö", "o", "ø", "o",
	"ó", "o", "ü", "u", "ú", "u", "í", "i", "ñ", "n", "ç", "c", "ß", "ss",
)

// People's names. A few carry accents or apostrophes, which user principal
// names drop and display names keep, as in real tenants.
var (
	firstNames = []string{
		"Adele", "Alex", "Allan", "Ana", "Anders", "Aoife", "Ben", "Bianca",
		"Björn", "Carlos", "Chloé", "Christie", "Daniel", "Debra", "Diego", "Elif",
		"Emily", "Enrico", "Fatima", "Finn", "Grady", "Hana", "Henrietta", "Ingrid",
		"Isaiah", "Jamal", "Johanna", "Joni", "José", "Kenji", "Lee", "Leila",
		"Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Nia", "Noah", "Olga",
		"Omar", "Patti", "Pradeep", "Priya", "Rafael", "Sakura", "Sean", "Søren",
		"Tomás", "Wei", "Yusuf", "Zoë",
	}
	lastNames = []string{
		"Vance", "Wilber", "Deyoung", "Bowen", "Adams", "Brennan", "Sullivan",
		"Ferreira", "Lindqvist", "Mendoza", "Dubois", "Cline", "Rossi", "Zrinski",
		"Haddad", "Yilmaz", "Braun", "Romano", "Khan", "O'Brien", "Archer",
		"Nakamura", "Mueller", "Johansson", "Okafor", "Hassan", "Schmidt", "Lambert",
		"García", "Tanaka", "Gonzales", "Said", "Petersen", "Robinson", "Bowen-Smith",
		"Cohen", "Wilke", "Abara", "Kowalski", "Ivanova", "Farouk", "Fernandez",
		"Patel", "Sharma", "Costa", "Sato", "Murphy", "Nielsen", "Ortega", "Chen",
		"Aydin", "Novak",
	}

	// The names as user principal names spell them: "Søren" is "soren",
	// "O'Brien" is "obrien".
	firstSlugs = slugs(firstNames)
	lastSlugs  = slugs(lastNames)
)

func slugs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = slug(n, "")
	}
	return out
}
