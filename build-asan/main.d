build-asan/main.o: main.c lib/applet.h
lib/applet.h:
