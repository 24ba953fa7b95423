"""The lever audit: vary every declared parameter of a scenario and its rules one at a time on
common seeds and report, per parameter, what it changes (``wargame levers``), and decompose the
difference between two postures into single changes (``wargame posture-diff``)."""
