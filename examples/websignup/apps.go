package main

// platform is a kind of device with the apps recommended for it.
type platform struct {
	Platform string // catalogue key of its name
	Apps     []clientApp
}

// clientApp is an XMPP app and its official web site (https).
type clientApp struct {
	Name string
	URL  string
}

// recommendedApps are the apps the pages recommend, per platform, with
// links to their official sites. TestRecommendedApps checks that every
// link is https (netguard.HTTPSLink).
func recommendedApps() []platform {
	return []platform{
		{Platform: "apps.android", Apps: []clientApp{
			{Name: "Conversations", URL: "https://conversations.im/"},
			{Name: "Monocles Chat", URL: "https://monocles.eu/"},
		}},
		{Platform: "apps.ios", Apps: []clientApp{
			{Name: "Monal", URL: "https://monal-im.org/"},
			{Name: "Siskin IM", URL: "https://siskin.im/"},
		}},
		{Platform: "apps.desktop", Apps: []clientApp{
			{Name: "Gajim", URL: "https://gajim.org/"},
			{Name: "Dino", URL: "https://dino.im/"},
		}},
	}
}
