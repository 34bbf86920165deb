"""Cases that fail because of an emulator bug, with the reason. (service, operation, kind) ->
reason. A listed case that passes fails the suite, so the list stays true: remove its entry."""

KNOWN_FAILURES = {
}
