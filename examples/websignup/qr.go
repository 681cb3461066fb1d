package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// QR codes: github.com/yeqown/go-qrcode/v2 encodes (mode, version, error
// correction, masking); matrixWriter only paints its modules into a PNG
// with the standard library, so that none of the library's image writers
// (and their font and drawing dependencies) is needed.

// Size of the QR code images.
const (
	qrModule = 6 // pixels per module
	qrQuiet  = 4 // modules of white border (the standard's quiet zone)
)

// qrPNG returns a PNG of the QR code of s, black on white, medium error
// correction.
func qrPNG(s string) ([]byte, error) {
	code, err := qrcode.NewWith(s, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, err
	}
	w := &matrixWriter{}
	if err := code.Save(w); err != nil {
		return nil, err
	}
	return w.png, nil
}

// matrixWriter is a qrcode.Writer that paints the matrix into a PNG.
type matrixWriter struct{ png []byte }

// Write paints mat (qrcode.Writer).
func (w *matrixWriter) Write(mat qrcode.Matrix) error {
	n := mat.Width()
	side := (n + 2*qrQuiet) * qrModule
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	mat.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		if !v.IsSet() {
			return
		}
		x0, y0 := (x+qrQuiet)*qrModule, (y+qrQuiet)*qrModule
		for dy := range qrModule {
			for dx := range qrModule {
				img.SetColorIndex(x0+dx, y0+dy, 1)
			}
		}
	})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	w.png = b.Bytes()
	return nil
}

// Close does nothing (qrcode.Writer).
func (w *matrixWriter) Close() error { return nil }
