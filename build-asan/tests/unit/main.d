build-asan/tests/unit/main.o: tests/unit/main.c tests/unit/unit.h
tests/unit/unit.h:
