build-asan/lib/applet.o: lib/applet.c lib/applet.h
lib/applet.h:
