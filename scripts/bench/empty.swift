// An empty Swift program: the start-up floor that warm attach is compared with.
