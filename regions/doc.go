// Package regions owns the names of China's administrative divisions
// (GB/T 2260 and the statistical township codes): province (2 digits),
// city (4), county (6) and township (9), read from the embedded copy of
// modood/Administrative-divisions-of-China (WTFPL, data/LICENSE.modood).
// Villages (12 digits) have no names here: they are shown by code.
package regions
