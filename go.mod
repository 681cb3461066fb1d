module github.com/xmpp-onboard/onboard

go 1.24.0

require (
	github.com/yeqown/go-qrcode/v2 v2.3.0
	golang.org/x/net v0.50.0
	golang.org/x/text v0.34.0
	mellium.im/sasl v0.3.2
	mellium.im/xmlstream v0.15.4
	mellium.im/xmpp v0.23.0
)

require (
	github.com/yeqown/reedsolomon v1.0.0 // indirect
	golang.org/x/crypto v0.48.0 // indirect
	golang.org/x/mod v0.33.0 // indirect
	golang.org/x/sync v0.19.0 // indirect
	golang.org/x/tools v0.42.0 // indirect
	mellium.im/reader v0.1.0 // indirect
)
