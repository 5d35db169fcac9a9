"""The studio: what turns an instruction and a still into a clip - the director (words -> draft), camera motion,
the renderer (draft + image -> MP4) and the overlays (text, audio). Pure of HTTP; the emulator calls it."""
